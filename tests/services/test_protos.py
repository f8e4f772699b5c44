from services.protogen import stale_stubs


def test_committed_stubs_match_the_protos():
    assert stale_stubs() == [], "run `make protos` and commit the regenerated stubs"
