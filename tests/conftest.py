"""Suite-wide test settings: BLAS runs on one thread. The tests' matrices are small, and on a shared
2-core machine a second BLAS thread that gets descheduled stalls every product (seen: 10–20× slower)."""
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(params=["fast", "reference"])
def both_paths(request):
    """Run a test on the fast kernels and again on the reference ops (``chainrule.use_reference``): a module
    of parity tests says ``pytestmark = pytest.mark.usefixtures("both_paths")`` to check both against torch."""
    import chainrule as cr

    with cr.use_reference(request.param == "reference"):
        yield request.param
