"""DataLoader(num_workers=N): threads (what chainrule.data.DataLoader uses) vs a fork process pool, on the
digits upscaled to 32x32 with rotation + crop + noise; batched (vectorized transforms) and per-sample datasets.
`python benchmarks/data_workers.py 2` prints each epoch's best time and whether both give the same batches."""
import multiprocessing as mp
import sys
import time

import numpy as np

import chainrule as cr
from chainrule.data import ArrayDataset, DataLoader, Dataset
from chainrule.data import transforms as T
from chainrule.data.datasets import digits

x, y = digits()
x = np.kron(x.reshape(-1, 1, 8, 8), np.ones((1, 1, 4, 4), np.float32))  # (1797, 1, 32, 32)
x = np.concatenate([x] * 4)
y = np.concatenate([y] * 4)
augment = T.Compose([T.RandomRotation(15), T.RandomCrop(32, padding=4), T.GaussianNoise(0.05)])


class PerSample(Dataset):
    def __len__(self):
        return len(x)

    def __getitem__(self, i):
        return augment(x[i : i + 1])[0], int(y[i])


def epoch_threads(ds, workers, bs):
    return list(DataLoader(ds, batch_size=bs, shuffle=True, seed=0, num_workers=workers))


_LOADER = None


def _job(args):
    return _LOADER._fetch_seeded(*args)


def epoch_processes(ds, workers, bs):
    global _LOADER
    _LOADER = DataLoader(ds, batch_size=bs, shuffle=True, seed=0)
    state = cr.random.rng(_LOADER.generator).bit_generator.state["state"]
    jobs = [(np.random.SeedSequence([state["state"], state["inc"], 1, i]).generate_state(1, np.uint64)[0], idx)
            for i, idx in enumerate(_LOADER.batch_sampler)]
    with mp.get_context("fork").Pool(workers) as pool:
        return list(pool.imap(_job, jobs))


def best(fn, *args, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return min(times)


if __name__ == "__main__":
    workers = [int(w) for w in sys.argv[1:]] or [2]
    for name, ds, bs in [("batched", ArrayDataset(x, y, transform=augment), 128), ("per-sample", PerSample(), 128)]:
        base = best(epoch_threads, ds, 0, bs)
        print(f"{name:10s} num_workers=0: {base:.3f}s")
        for w in workers:
            t, p = best(epoch_threads, ds, w, bs), best(epoch_processes, ds, w, bs)
            same = all(np.array_equal(a[0].numpy(), b[0].numpy())
                       for a, b in zip(epoch_threads(ds, w, bs), epoch_processes(ds, w, bs)))
            print(f"{name:10s} {w} workers: threads {t:.3f}s ({base / t:.2f}x)  processes {p:.3f}s ({base / p:.2f}x)  same batches: {same}")
