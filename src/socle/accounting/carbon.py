"""Energy (kWh) and emissions (gCO2e) of one request, following the EcoLogits method.

The formulas, their constants and their uncertainty are documented in docs/carbon.md. In short::

    f_E      = ALPHA · exp(BETA · B) · P_active + GAMMA         Wh per output token, per GPU
    GPUs     = ceil(1.2 · P_total · bits / 8 / M_gpu)
    E_decode = T_out · f_E · GPUs
    E_prefill= T_in · 2 · P_active·1e9 / (peak · MFU) · W_gpu / 3600         (Socle's addition)
    ΔT       = min(T_out · (A · P_active + C · B + D), measured latency)
    E_server = ΔT/3600 · W_server · GPUs / GPUs_installed / B
    E        = PUE · (E_decode + E_prefill + E_server)
    CO2e     = E · intensity(zone)
             + ΔT / (B · lifetime) · (GPUs / installed · I_server + GPUs · I_gpu)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from socle.accounting.config import CarbonConfig, HardwareProfile
from socle.accounting.tables import PrefixTable, load_data
from socle.routing.catalog import Deployment

# EcoLogits fits on the ML.ENERGY leaderboard (H100, vLLM), energy per output token per GPU (Wh).
ALPHA = 6.47e-6
BETA = -2.60e-3
GAMMA = 1.04e-5
# Generation latency per output token (s).
LAT_A = 6.78e-4
LAT_B = 3.12e-4
LAT_C = 1.94e-2
MEMORY_OVERHEAD = 1.2
SECONDS_PER_YEAR = 365.25 * 86400


@dataclass(frozen=True, slots=True)
class Footprint:
    """The estimate for one request, with its parts so that reports can explain it."""

    energy_kwh: float
    co2e_g: float
    usage_g: float
    embodied_g: float
    zone: str
    intensity: float  # gCO2e/kWh used
    gpus: int


@dataclass(frozen=True, slots=True)
class _Site:
    """What is fixed for one deployment: resolved once and cached."""

    active_b: float
    total_b: float
    profile: HardwareProfile
    pue: float
    zone: str
    intensity: float
    gpus: int
    decode_wh_per_token: float  # all GPUs
    prefill_wh_per_token: float
    latency_per_token: float


class CarbonModel:
    """Estimates footprints; built once from the configuration."""

    def __init__(self, config: CarbonConfig) -> None:
        self.config = config
        grid = load_data("grid_intensity.yaml")
        self.grid_source = str(grid.get("source", ""))
        self.zones: dict[str, float] = {
            str(k).upper(): float(v) for k, v in dict(grid.get("zones", {})).items()
        }
        self.zones.update(config.zones)
        params = load_data("model_params.yaml").get("models", {})
        self.params: PrefixTable[tuple[float, float]] = PrefixTable(
            {name: (float(v["active"]), float(v["total"])) for name, v in params.items()}
        )
        self._sites: dict[int, tuple[Deployment, _Site | None]] = {}

    def _site(self, deployment: Deployment) -> _Site | None:
        # Cached by identity, like the price book: catalog snapshots are immutable.
        cached = self._sites.get(id(deployment))
        if cached is not None and cached[0] is deployment:
            return cached[1]
        site = self._resolve(deployment)
        if len(self._sites) >= 10_000:
            self._sites.clear()
        self._sites[id(deployment)] = (deployment, site)
        return site

    def _resolve(self, deployment: Deployment) -> _Site | None:
        override = self.config.deployments.get(deployment.id)
        known = self.params.get(deployment.endpoint.upstream_model)
        active = (override.active_params_b if override else None) or deployment.active_params_b
        if active is None and known is not None:
            active = known[0]
        if active is None:
            return None
        total = (override.total_params_b if override else None) or (known[1] if known else active)
        total = max(total, active)
        profile = self.config.profiles[override.profile if override else "default"]
        pue = (override.pue if override else None) or self.config.pue.get(deployment.location, 1.2)
        zone = ((override.zone if override else None) or deployment.jurisdiction).upper()
        if zone not in self.zones:
            zone = "WORLD"
        intensity = self.zones.get(zone, 480.0)
        memory_gb = MEMORY_OVERHEAD * total * profile.quantization_bits / 8.0
        gpus = max(1, math.ceil(memory_gb / profile.gpu_memory_gb))
        per_gpu = ALPHA * math.exp(BETA * profile.batch_size) * active + GAMMA
        flops = 2.0 * active * 1e9
        prefill_seconds = flops / (profile.gpu_peak_tflops * 1e12 * profile.prefill_mfu)
        return _Site(
            active_b=active,
            total_b=total,
            profile=profile,
            pue=pue,
            zone=zone,
            intensity=intensity,
            gpus=gpus,
            decode_wh_per_token=per_gpu * gpus,
            prefill_wh_per_token=prefill_seconds * profile.gpu_power_w / 3600.0,
            latency_per_token=LAT_A * active + LAT_B * profile.batch_size + LAT_C,
        )

    def estimate(
        self,
        deployment: Deployment,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        latency_s: float | None = None,
    ) -> Footprint | None:
        """The footprint of one call, or None when the model's size is unknown."""
        if not self.config.enabled:
            return None
        site = self._site(deployment)
        if site is None:
            return None
        profile = site.profile
        fresh = max(0, prompt_tokens - cached_tokens)
        duration = completion_tokens * site.latency_per_token
        if latency_s is not None and latency_s > 0:
            duration = min(duration, latency_s)
        share = site.gpus / profile.gpus_per_server
        server_wh = duration / 3600.0 * profile.server_power_kw * 1000.0 * share
        server_wh /= profile.batch_size
        it_wh = (
            completion_tokens * site.decode_wh_per_token
            + fresh * site.prefill_wh_per_token
            + server_wh
        )
        energy_kwh = site.pue * it_wh / 1000.0
        usage_g = energy_kwh * site.intensity
        embodied_g = 0.0
        if self.config.include_embodied:
            hardware_kg = share * profile.server_embodied_kgco2e
            hardware_kg += site.gpus * profile.gpu_embodied_kgco2e
            lifetime_s = profile.lifetime_years * SECONDS_PER_YEAR
            embodied_g = duration / (profile.batch_size * lifetime_s) * hardware_kg * 1000.0
        return Footprint(
            energy_kwh=energy_kwh,
            co2e_g=usage_g + embodied_g,
            usage_g=usage_g,
            embodied_g=embodied_g,
            zone=site.zone,
            intensity=site.intensity,
            gpus=site.gpus,
        )
