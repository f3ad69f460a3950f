# Shared fixtures: one generated site per session, one server per (store, python).
import pytest
import www_rig

KINDS = ["crunch", "fat16", "fat32"]
PYTHONS = ["cpython", "micropython"]


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    return www_rig.build_site(str(tmp_path_factory.mktemp("www") / "site"))


@pytest.fixture(scope="session")
def files(site):
    return www_rig.site_files(site)


_servers = {}


@pytest.fixture(scope="session")
def server_pool(site, tmp_path_factory):
    yield _servers
    for s in _servers.values():
        s.stop()


def get_server(pool, kind, python, site, tmp_path_factory):
    key = (kind, python)
    if key not in pool:
        tmp = str(tmp_path_factory.mktemp("%s-%s" % key))
        pool[key] = www_rig.start(kind, python, site, tmp)
    return pool[key]


@pytest.fixture(params=[(k, p) for k in KINDS for p in PYTHONS],
                ids=lambda kp: "%s-%s" % kp)
def server(request, server_pool, site, tmp_path_factory):
    kind, python = request.param
    return get_server(server_pool, kind, python, site, tmp_path_factory)
