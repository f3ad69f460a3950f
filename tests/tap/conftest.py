# TAP integration tests: each test gets a fresh namespace; our stack runs as a process.
import pytest

import netns


def pytest_collection_modifyitems(config, items):
    why = netns.can_run()
    if why:
        for it in items:
            it.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture
def ns(request):
    n = netns.Netns(request.node.name[:6].replace("[", "").replace("_", ""))
    yield n
    n.close()


@pytest.fixture(params=netns.IMPLS)
def impl(request):
    return request.param
