from socle.identity.keys import KEY_PREFIX, display_prefix, generate_key, hash_key, looks_like_key
from socle.identity.roles import Permission, allowed
from socle.identity.stage import bearer_token


def test_generated_keys_are_long_random_and_prefixed() -> None:
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert key.startswith(KEY_PREFIX)
        assert len(key) - len(KEY_PREFIX) >= 43  # 32 bytes of entropy, base64url
        assert looks_like_key(key)


def test_hash_is_keyed_and_stable() -> None:
    key = generate_key()
    assert hash_key(b"a", key) == hash_key(b"a", key)
    assert hash_key(b"a", key) != hash_key(b"b", key)
    assert key not in hash_key(b"a", key)


def test_display_prefix_reveals_only_a_few_characters() -> None:
    key = generate_key()
    prefix = display_prefix(key)
    assert key.startswith(prefix)
    assert len(prefix) == len(KEY_PREFIX) + 6


def test_bearer_token_parsing() -> None:
    assert bearer_token({"authorization": "Bearer abc"}) == "abc"
    assert bearer_token({"authorization": "bearer  abc "}) == "abc"
    assert bearer_token({"authorization": "Basic abc"}) is None
    assert bearer_token({"authorization": "Bearer "}) is None
    assert bearer_token({"api-key": "xyz"}) == "xyz"
    assert bearer_token({}) is None


def test_roles_deny_by_default() -> None:
    assert allowed("admin", Permission.WRITE_ORG)
    assert allowed("member", Permission.CALL_MODELS)
    assert not allowed("member", Permission.READ_AUDIT)
    assert not allowed("auditor", Permission.CALL_MODELS)
    assert allowed("auditor", Permission.READ_AUDIT)
    assert not allowed("owner", Permission.WRITE_ORG)
    assert not allowed("root", Permission.CALL_MODELS)
