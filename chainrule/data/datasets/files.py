"""Where data files live, checksums, and atomic downloads."""
import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path


def data_root(root=None):
    """``root`` if given, else ``$CHAINRULE_DATA``, else ``~/.chainrule/data``."""
    if root is None:
        root = os.environ.get("CHAINRULE_DATA") or "~/.chainrule/data"
    return Path(root).expanduser()


def file_digest(path, algorithm="md5"):
    """Hex digest of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_digest(path, expected, algorithm="md5", owner="data"):
    """Raise ``ValueError`` unless the file's digest is ``expected``."""
    found = file_digest(path, algorithm)
    if found != expected:
        raise ValueError(
            f"{owner}: checksum mismatch for {path}: expected {algorithm} {expected} (the official file), "
            f"found {found}. The file is corrupt, truncated or not the original; delete it and download it "
            "again (download=True), or pass verify=False to read it anyway"
        )


def download(urls, destination, md5, owner="data", timeout=60):
    """Fetch the first mirror in ``urls`` whose bytes have the given md5 and put them at ``destination``.

    Each try streams into a temporary file next to ``destination``, checks the md5, then renames it
    (``os.replace``, atomic): an interrupted or corrupt download never leaves a file under the final
    name. Raises ``RuntimeError`` listing every mirror tried and why it failed.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
        try:
            h = hashlib.md5()
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    h.update(block)
                    out.write(block)
            if h.hexdigest() != md5:
                failures.append(f"{url}: checksum mismatch (expected md5 {md5}, got {h.hexdigest()})")
                continue
            os.replace(tmp, destination)
            return destination
        except OSError as e:  # URLError, HTTPError and timeouts are OSErrors
            failures.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise RuntimeError(f"{owner}: could not download {destination.name}:\n  " + "\n  ".join(failures))
