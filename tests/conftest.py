"""Suite-wide test settings: BLAS runs on one thread. The tests' matrices are small, and on a shared
2-core machine a second BLAS thread that gets descheduled stalls every product (seen: 10–20× slower)."""
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(params=["fast", pytest.param("reference", marks=pytest.mark.reference)])
def both_paths(request):
    """Run a test on the fast kernels and again on the reference ops (``chainrule.use_reference``): a module
    of parity tests says ``pytestmark = pytest.mark.usefixtures("both_paths")`` to check both against torch.
    The reference runs carry the ``reference`` marker (``-m reference`` runs only them)."""
    import chainrule as cr

    with cr.use_reference(request.param == "reference"):
        yield request.param


def pytest_collection_modifyitems(items):
    """tests/kernels/ (fast kernel == reference op, over the full grids) carries the ``reference`` marker too."""
    for item in items:
        if "/tests/kernels/" in str(item.path) and "test_parallel.py" not in str(item.path):
            item.add_marker(pytest.mark.reference)
