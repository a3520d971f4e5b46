"""Gateway load harness: mock upstream, bare passthrough floor, Socle and peers, driven by wrk.

Run ``python -m bench.gateway --help`` (or ``scripts/bench``); see bench/README.md.
"""
