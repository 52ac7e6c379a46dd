"""Suite-wide test settings: BLAS runs on one thread. The tests' matrices are small, and on a shared
2-core machine a second BLAS thread that gets descheduled stalls every product (seen: 10–20× slower)."""
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    with threadpool_limits(1):
        yield
