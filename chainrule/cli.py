"""The ``chainrule`` command: train, evaluate, summary, models, datasets.

    chainrule train                        # small CNN on the bundled 8×8 digits, offline, < 1 min
    chainrule train --model lenet5 --dataset mnist --data-dir ../shared/data --epochs 2 --augment
    chainrule evaluate runs/<run>          # reload a run's checkpoint and score the test set
    chainrule summary resnet18 --input 3x224x224
    chainrule models | chainrule datasets
    chainrule lab list | chainrule lab run pooling-backward --quick | chainrule lab all --quick

A mistake a user can make (unknown name, missing data, an input the model can't take, a corrupt
checkpoint) ends with one line on stderr and exit status 2, never a traceback (set CHAINRULE_DEBUG=1
to see the traceback).
"""
import argparse
import csv
import inspect
import io
import json
import math
import os
import re
import sys
import time

ERRORS = (ValueError, KeyError, TypeError, FileNotFoundError, FloatingPointError, RuntimeError, OSError)
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")
SCHEDULERS = ("none", "step", "cosine", "onecycle", "plateau")


def _parser(explicit_only=False):
    """The command line. ``explicit_only``: train's flags get no defaults, so parsing tells which flags
    the user actually gave (``--resume`` compares those with the run's saved config)."""
    from . import __version__

    p = argparse.ArgumentParser(prog="chainrule", description="chainrule: deep learning on NumPy, from the notes up.")
    p.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and write a run folder")
    t.add_argument("--model", default="small_cnn", help="a zoo model (see `chainrule models`); default small_cnn")
    t.add_argument("--dataset", default="digits", help="see `chainrule datasets`; default digits (bundled)")
    t.add_argument("--data-dir", default=None, help="folder with the datasets (default $CHAINRULE_DATA or ~/.chainrule/data)")
    t.add_argument("--epochs", type=int, default=15)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    t.add_argument("--lr", type=float, default=None, help="default: 1e-3 for adam/adamw/rmsprop, 0.05 for sgd, "
                                                           "1e-2 for adagrad, 1.0 for adadelta")
    t.add_argument("--momentum", type=float, default=0.9, help="for sgd and rmsprop")
    t.add_argument("--weight-decay", type=float, default=0.0, help="L2; biases and norm layers are exempt")
    t.add_argument("--scheduler", choices=SCHEDULERS, default="none")
    t.add_argument("--val-fraction", type=float, default=0.1,
                   help="share of the training split held out (stratified by class, drawn from --seed) as the "
                        "validation set that the per-epoch val_* figures and --scheduler plateau watch; the test "
                        "split is scored once, at the end (default 0.1; 0: no validation set)")
    t.add_argument("--augment", action="store_true", help="random crops (and flips for cifar10)")
    t.add_argument("--clip-grad", type=float, default=None, help="clip the global gradient norm to this value")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (default 1: small models run faster on one, and a descheduled second thread "
                        "stalls every product on a busy machine; try 2+ for large convolutional models)")
    t.add_argument("--out", default=None, help="run folder (default runs/<model>-<dataset>-<time>); an existing "
                                                "run there is refused unless --resume or --overwrite")
    t.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its newest checkpoint, with the run's saved model, dataset, "
                        "data dir, optimizer, schedule and batch size (--epochs may extend it)")
    t.add_argument("--overwrite", action="store_true", help="replace the run in --out (its files are deleted)")
    t.add_argument("--keep", type=int, default=2,
                   help="checkpoints kept in RUN/checkpoints, newest first (default 2: a corrupted newest one "
                        "falls back to the one before)")
    t.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    t.add_argument("--graph", action="store_true", help="also write graph.html: the explorer of the first step")
    t.add_argument("--profile", action="store_true",
                   help="profile steps 3-22 of the first epoch (fewer if it is shorter): time, calls and bytes per op "
                        "type and per module, printed on stderr at the end and written to RUN/profile.txt")
    t.add_argument("--json", action="store_true", help="print a final machine-readable line")
    t.add_argument("--distributed", action="store_true",
                   help="data-parallel over the processes of `mpiexec -n N chainrule train --distributed ...` "
                        "(needs chainrule[distributed]); --batch-size stays the global batch, batch-size/N per "
                        "process; see docs/distributed.md")
    if explicit_only:
        for action in t._actions:
            action.default = argparse.SUPPRESS

    e = sub.add_parser("evaluate", help="score a run's checkpoint on its dataset's test split")
    e.add_argument("run", help="a run folder written by `chainrule train`")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--json", action="store_true")

    s = sub.add_parser("summary", help="layers, parameters, MACs and receptive fields of a zoo model")
    s.add_argument("model")
    s.add_argument("--input", default=None, help="input size without the batch dim, e.g. 1x28x28 (default: the "
                                                 "model's natural size: 1x28x28 for lenet5, and for lstm_classifier "
                                                 "and transformer_classifier an MNIST image read as 28 rows of 28; "
                                                 f"3x32x32 for the CIFAR nets ({', '.join(CIFAR_MODELS)}); 1x8x8 for "
                                                 "small_cnn and mlp; 3x224x224 for the ImageNet nets, the rest)")
    s.add_argument("--num-classes", type=int, default=None)
    s.add_argument("--json", action="store_true")

    g = sub.add_parser("graph", help="an explorer page of a zoo model's loss graph: step through backward in a "
                                     "browser")
    g.add_argument("model")
    g.add_argument("--input", default=None, help="input size without the batch dim (default: as for summary)")
    g.add_argument("--batch", type=int, default=2, help="random inputs and labels in the batch (default 2)")
    g.add_argument("--num-classes", type=int, default=None)
    g.add_argument("--detail", choices=("auto", "full", "modules"), default="auto",
                   help="auto: every op up to 60 ops, else each top-level module collapsed (expand in the page)")
    g.add_argument("--out", default=None, help="the HTML file (default MODEL-graph.html)")

    lab = sub.add_parser("lab", help="experiments that measure the notes' claims")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True)
    lab_sub.add_parser("list", help="the experiments, with the note and claim each tests")
    for name, what in (("run", "run one experiment"), ("all", "run every experiment and write the report index")):
        r = lab_sub.add_parser(name, help=what)
        if name == "run":
            r.add_argument("name")
        r.add_argument("--quick", action="store_true", help="the small versions (under a minute each)")
        r.add_argument("--seed", type=int, default=0)
        r.add_argument("--out", default=LAB_OUT, help=f"the report folder (default {LAB_OUT})")

    sub.add_parser("models", help="list the zoo")
    d = sub.add_parser("datasets", help="list the datasets and where their files are looked for")
    d.add_argument("--data-dir", default=None)
    return p


LAB_OUT = os.path.join("runs", "lab-report")  # under runs/, which .gitignore covers


def _build_model(name, input_shape, num_classes=None):
    """A zoo model built for inputs of ``input_shape`` (no batch dim): ``num_classes`` (the builder's
    default when None) and, where the builder takes them, in_channels and the LSTM's input_size."""
    from . import models
    from .models.registry import model_builder

    if name == "mlp":  # the one builder that needs its sizes
        from .nn import Flatten, Sequential

        return Sequential(Flatten(), models.mlp([math.prod(input_shape), 128, 128, num_classes or 10]))
    builder = model_builder(name)
    params = inspect.signature(builder).parameters
    kwargs = {"num_classes": num_classes} if num_classes and "num_classes" in params else {}
    if "in_channels" in params and len(input_shape) == 3:
        kwargs["in_channels"] = input_shape[0]
    if "input_size" in params and len(input_shape) == 3:
        kwargs["input_size"] = input_shape[-1]
    if "aux_logits" in params:
        kwargs["aux_logits"] = False
    return builder(**kwargs)


def _optimizer(args, model):
    from . import optim
    from .nn.utils import param_groups

    defaults = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2, "adadelta": 1.0}
    lr = args.lr if args.lr is not None else defaults[args.optimizer]
    groups = param_groups(model, args.weight_decay) if args.weight_decay else model.parameters()
    if args.optimizer == "sgd":
        return optim.SGD(groups, lr=lr, momentum=args.momentum)
    if args.optimizer == "rmsprop":
        return optim.RMSprop(groups, lr=lr, momentum=args.momentum)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad, "adadelta": optim.Adadelta}
    return cls[args.optimizer](groups, lr=lr)


def _scheduler(name, optimizer, epochs, steps_per_epoch):
    from .optim import lr_scheduler as S

    if name == "step":
        return S.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "onecycle":
        return S.OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"], epochs=epochs, steps_per_epoch=1)
    if name == "plateau":
        return S.ReduceLROnPlateau(optimizer)
    return None


# what a run folder holds; --overwrite deletes these and nothing else
RUN_FILES = ("config.json", "summary.txt", "history.json", "metrics.csv", "loss.png", "accuracy.png", "confusion.png",
             "gradflow.png", "gradflow.json", "graph.html", "profile.txt")
CHECKPOINTS = "checkpoints"
# the run's identity: --resume takes these from config.json, and an explicit flag must agree
RUN_CONFIG = ("model", "dataset", "data_dir", "batch_size", "optimizer", "lr", "momentum", "weight_decay",
              "scheduler", "augment", "clip_grad", "seed", "val_fraction")
CONFIG_KEYS = RUN_CONFIG + ("epochs",)
# a run written before the validation split scored its val_* columns on the test set: no split, as then
OLD_CONFIG_DEFAULTS = {"val_fraction": 0.0}


def _write_json(path, value):
    from .io import atomic_write

    atomic_write(path, (json.dumps(value, indent=1, default=float) + "\n").encode())


def _write_run(out, history, final, entry):
    """history.json (the epochs, the steps, and ``test``: the final weights' test loss and accuracy),
    metrics.csv (one row per epoch) and the pictures."""
    from .io import atomic_write
    from .train.plots import plot_confusion, plot_curves

    test = {"loss": final["loss"], "accuracy": final["accuracy"], "samples": final["samples"]}
    _write_json(os.path.join(out, "history.json"), {**history.to_dict(), "test": test})
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=list(history.epochs[0]))
    writer.writeheader()
    writer.writerows(history.epochs)
    atomic_write(os.path.join(out, "metrics.csv"), table.getvalue().encode())
    plot_curves(history, os.path.join(out, "loss.png"), "loss", f"loss — {entry.name}")
    plot_curves(history, os.path.join(out, "accuracy.png"), "accuracy", f"accuracy — {entry.name}")
    plot_confusion(final["confusion_matrix"], os.path.join(out, "confusion.png"))


def _distributed(args):
    """None, or ``chainrule.distributed`` once MPI is started, for ``train --distributed``. Started by
    ``mpiexec -n N`` without ``--distributed``, N copies would train into one folder: refused."""
    size = max(int(os.environ.get(k) or 1) for k in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE"))
    if not getattr(args, "distributed", False):
        if size > 1:
            raise ValueError(f"this is one of {size} processes started by mpiexec, but --distributed is not set: "
                             f"{size} independent copies would train into one run folder; add --distributed for "
                             "data-parallel training, or run without mpiexec")
        return None
    from . import distributed as dist

    dist.init()
    return dist


def _distributed_loaders(args, dist, train_set, scored_sets):
    """Each rank a shard: batch-size/N training samples per step (the global batch stays --batch-size,
    so the learning rate needs no change), and its share of each scored set (validation, test), each
    scored once over all ranks (a None set stays None)."""
    from .data import DataLoader

    n = dist.world_size()
    if args.batch_size % n:
        raise ValueError(f"--batch-size {args.batch_size} is the global batch and must be divisible by the {n} "
                         f"processes (each takes batch-size/{n}); try --batch-size {max(args.batch_size // n, 1) * n}")
    sampler = dist.DistributedSampler(train_set, shuffle=True, seed=args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size // n, sampler=sampler, drop_last=True)
    scored = [None if ds is None else DataLoader(ds, batch_size=256,
                                                 sampler=dist.DistributedSampler(ds, shuffle=False, pad=False))
              for ds in scored_sets]
    return (train_loader, *scored)


def _check_train_args(args):
    """Values argparse can't check: each must be positive (a negative --clip-grad would ascend)."""
    for flag, value, low in (("--epochs", args.epochs, 1), ("--batch-size", args.batch_size, 1),
                             ("--keep", args.keep, 1)):
        if value < low:
            raise ValueError(f"{flag} must be at least {low}, got {value}")
    for flag, value in (("--clip-grad", args.clip_grad), ("--lr", args.lr)):
        if value is not None and not value > 0:
            raise ValueError(f"{flag} must be a positive number, got {value}")
    for flag, value in (("--weight-decay", args.weight_decay), ("--momentum", args.momentum)):
        if not value >= 0:
            raise ValueError(f"{flag} must be 0 or more, got {value}")
    if not 0 <= args.val_fraction < 1:
        raise ValueError(f"--val-fraction must be in [0, 1) (0: no validation set), got {args.val_fraction}")
    if args.graph and args.distributed:
        raise ValueError("--graph runs one step alone, which a --distributed job can't: write it without --distributed")
    if args.resume and args.overwrite:
        raise ValueError("--resume continues the run in --out and --overwrite replaces it: give one of them")


def _read_config(run, command):
    """A run's config.json, checked: a missing, corrupt or incomplete file is named."""
    path = os.path.join(run, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{command}: {run} is not a run folder ({path} does not exist)")
    try:
        with open(path) as f:
            config = json.load(f)
    except (ValueError, OSError) as e:
        raise ValueError(f"{path} is not readable JSON ({e}); the run's config is corrupted") from None
    missing = [k for k in CONFIG_KEYS if not isinstance(config, dict) or k not in config]
    missing = [k for k in missing if k not in OLD_CONFIG_DEFAULTS]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}: not a config written by `chainrule train`")
    return {**OLD_CONFIG_DEFAULTS, **config}


def _config_for_resume(args, argv, out):
    """The run's saved config with the flags the user gave checked against it; --epochs may change."""
    from .train import checkpoint_files

    saved = _read_config(out, "--resume")
    given = vars(_parser(explicit_only=True).parse_args(argv))
    if "data_dir" in given:
        given["data_dir"] = _absolute_data_dir(given["data_dir"])
    conflicts = [f"--{k.replace('_', '-')} {given[k]} (the run has {saved[k]})" for k in RUN_CONFIG
                 if k in given and given[k] != saved[k]]
    if conflicts:
        raise ValueError(f"--resume continues {out} with its saved config, but {'; '.join(conflicts)}; drop those "
                         "flags, or start a new run with another --out")
    for key in CONFIG_KEYS:
        setattr(args, key, given.get(key, saved[key]))
    if not checkpoint_files(os.path.join(out, CHECKPOINTS)):
        raise FileNotFoundError(f"--resume: no checkpoint in {os.path.join(out, CHECKPOINTS)} (one is written at the "
                                "end of each epoch); start the run again with --overwrite")
    return saved


def _absolute_data_dir(data_dir):
    from .data.datasets import data_root

    return str(data_root(data_dir).resolve())


def _refuse_existing_run(args, out):
    if not args.resume and not args.overwrite and os.path.isdir(out) and os.listdir(out):
        raise FileExistsError(f"--out {out} already holds files (a run?); pass --resume to continue it or "
                              "--overwrite to replace it")


def _clear_run(out):
    """--overwrite: delete a previous run's files (and nothing else in the folder)."""
    import shutil

    for name in RUN_FILES:
        if os.path.isfile(os.path.join(out, name)):
            os.remove(os.path.join(out, name))
    shutil.rmtree(os.path.join(out, CHECKPOINTS), ignore_errors=True)


def _first_step_graph(model, loader, path):
    """graph.html: the explorer of the first training step. The step runs on the model as it is and
    everything it changes — weights' gradients, BatchNorm statistics, the random states — is put back,
    so the run is the same with or without it."""
    from . import viz
    from .random import default_generator

    saved = {k: v.data.copy() for k, v in model.state_dict().items()}
    rng, loader_rng = default_generator.get_state(), loader.generator.get_state()
    x, y = next(iter(loader))
    viz.model_graph(model, x, y, title="the first training step: cross-entropy loss on one batch").save(path)
    for k, v in model.state_dict().items():
        v.data[...] = saved[k]
        v._version += 1
    for p in model.parameters():
        p.grad = None
    default_generator.set_state(rng)
    loader.generator.set_state(loader_rng)


def _run_folder_writer(out, config, saved, summary_text, graph_loader=None):
    """A callback that, once training really starts (a resumed checkpoint loaded), prepares the run
    folder: clears an --overwrite'd run and temporaries of killed writes, and writes config.json (only
    when it changed), summary.txt and, given ``graph_loader``, graph.html."""
    from .io import atomic_write, remove_stale_temporaries
    from .train import Callback

    class RunFolder(Callback):
        def on_train_begin(self, state):
            os.makedirs(out, exist_ok=True)
            remove_stale_temporaries(out)
            if saved is None:
                _clear_run(out)
            if config != saved:
                _write_json(os.path.join(out, "config.json"), config)
            atomic_write(os.path.join(out, "summary.txt"), (summary_text + "\n").encode())
            if graph_loader is not None:
                _first_step_graph(state["model"], graph_loader, os.path.join(out, "graph.html"))

    return RunFolder()


PROFILE_WARMUP, PROFILE_STEPS = 2, 20


def _step_profiler(model, out, steps_per_epoch):
    """--profile: a callback that profiles whole steps 3–22 of the first epoch trained (two warm-up
    steps first; a shorter epoch is profiled to its end, from its last step at the latest), writes
    profile.txt when they are done and prints the table on stderr when training ends. Its
    ``prof.stop()`` may be called at any time: a failed run calls it so that no profile stays on."""
    from .io import atomic_write
    from .profiler import profile
    from .train import Callback

    warmup = min(PROFILE_WARMUP, steps_per_epoch - 1)
    last = min(warmup + PROFILE_STEPS, steps_per_epoch)

    class StepProfiler(Callback):
        def __init__(self):
            self.prof, self.steps, self.text = profile(model), 0, None

        def on_train_begin(self, state):
            if warmup == 0:
                self.prof.start()

        def on_step_end(self, state, logs):
            self.steps += 1
            if self.steps == warmup:
                self.prof.start()
            elif self.steps == last:
                self.prof.stop()
                self.text = (f"profile of training steps {warmup + 1}-{last} of the first epoch (whole steps: data, "
                             f"forward, backward, optimizer)\n{self.prof.table()}")
                atomic_write(os.path.join(out, "profile.txt"), (self.text + "\n").encode())

        def on_train_end(self, state):
            if self.text is not None:
                print(self.text, file=sys.stderr)

    return StepProfiler()


def _labels(dataset):
    """The class of every sample, read without the transforms (a Subset's through its indices)."""
    import numpy as np

    from .data import Subset

    if isinstance(dataset, Subset):
        return _labels(dataset.dataset)[dataset.indices]
    return np.asarray(getattr(dataset.targets, "data", dataset.targets))


def _train_val_test(entry, args):
    """(train, validation, test): the validation set is ``--val-fraction`` of the training split, stratified
    by class and drawn from ``--seed`` (the same on --resume), without the training augmentation; None for 0."""
    from .data import Subset
    from .data.dataset import stratified_split
    from .random import Generator

    train_set, test_set = entry.load(args.data_dir, args.augment, args.seed)
    if not args.val_fraction:
        return train_set, None, test_set
    train_idx, val_idx = stratified_split(_labels(train_set), args.val_fraction, generator=Generator(args.seed))
    if len(val_idx) == 0:
        raise ValueError(f"--val-fraction {args.val_fraction} of the {len(train_set)} training samples of {entry.name} "
                         "holds no sample; give a larger fraction, or 0 for no validation set")
    plain = entry.load(args.data_dir, False, args.seed)[0] if args.augment else train_set
    return Subset(train_set, train_idx), Subset(plain, val_idx), test_set


def cmd_train(args, argv=None):
    from . import manual_seed
    from .data import DataLoader
    from .data.catalog import get_dataset
    from .diagnostics import GradientFlow, summary
    from .nn.functional import cross_entropy
    from .train import evaluate, fit

    _check_train_args(args)
    dist = _distributed(args)
    main = dist is None or dist.is_main()  # rank 0 alone prints and writes the run folder
    out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}-{time.strftime('%Y%m%d-%H%M%S')}")
    if dist is not None:
        out = dist.broadcast_object(out)  # ranks that started in different seconds write one folder
    _refuse_existing_run(args, out)
    saved = _config_for_resume(args, argv, out) if args.resume else None
    if not args.resume:
        args.data_dir = _absolute_data_dir(args.data_dir)  # evaluate and --resume work from any folder
    entry = get_dataset(args.dataset)
    manual_seed(args.seed)
    model = _build_model(args.model, entry.input_shape, entry.num_classes)
    train_set, val_set, test_set = _train_val_test(entry, args)
    # the partial last batch is dropped: BatchNorm statistics over a handful of samples make the loss jump
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed, drop_last=True)
    val_loader = None if val_set is None else DataLoader(val_set, batch_size=256)
    test_loader = DataLoader(test_set, batch_size=256)
    if dist is not None:
        train_loader, val_loader, test_loader = _distributed_loaders(args, dist, train_set, (val_set, test_set))
    if len(train_loader) == 0:
        raise ValueError(f"--batch-size {args.batch_size} is larger than the {len(train_set)} training samples of "
                         f"{entry.name} (the partial last batch is dropped, so no step would run); use at most "
                         f"{len(train_set) // (dist.world_size() if dist else 1)}")
    info = summary(model, entry.input_shape)  # first: a model that can't take the input leaves no run folder behind
    if dist is not None:
        model = dist.convert_sync_batchnorm(model)  # BatchNorm statistics over the global batch
    optimizer = _optimizer(args, model)
    scheduler = _scheduler(args.scheduler, optimizer, args.epochs, len(train_loader))
    monitor = GradientFlow(model)
    config = {k: getattr(args, k) for k in CONFIG_KEYS}
    callbacks = [_run_folder_writer(out, config, saved, str(info), train_loader if args.graph else None)] if main else []
    step_profiler = _step_profiler(model, out, len(train_loader)) if args.profile and main else None
    callbacks += [step_profiler] if step_profiler is not None else []
    if not args.quiet and main:
        print(f"training {args.model} ({info.totals['params']:,} parameters) on {entry.name}: "
              f"{len(train_set)} train / {0 if val_set is None else len(val_set)} validation / {len(test_set)} test → "
              f"{out}", file=sys.stderr)
    if not args.quiet and main and dist is not None:
        print(f"distributed: {dist.world_size()} processes × {args.batch_size // dist.world_size()} samples = global "
              f"batch {args.batch_size}", file=sys.stderr)
    if dist is not None:
        model = dist.DistributedDataParallel(model)
    started = time.perf_counter()
    try:
        history = fit(model, train_loader, cross_entropy, optimizer, args.epochs, val_loader=val_loader,
                      scheduler=scheduler, callbacks=callbacks, grad_clip=args.clip_grad, monitor=monitor,
                      checkpoint_dir=os.path.join(out, CHECKPOINTS), keep=args.keep, resume=args.resume,
                      quiet=args.quiet)
    finally:
        if step_profiler is not None:
            step_profiler.prof.stop()
    monitor.remove()
    final = evaluate(model, test_loader, cross_entropy, num_classes=entry.num_classes)  # once, on the final weights
    if not main:
        return 0
    _write_run(out, history, final, entry)
    if monitor.history:
        monitor.plot(os.path.join(out, "gradflow.png"))
        _write_json(os.path.join(out, "gradflow.json"), monitor.report())
    last = history.epochs[-1]
    result = {"run": out, "model": args.model, "dataset": entry.name, "epochs": len(history.epochs),
              "val_accuracy": last.get("val_accuracy"), "val_loss": last.get("val_loss"),
              "test_accuracy": final["accuracy"], "test_loss": final["loss"],
              "seconds": round(time.perf_counter() - started, 2)}
    val = f"val accuracy {last['val_accuracy']:.2%}  " if "val_accuracy" in last else ""
    print(f"test accuracy {final['accuracy']:.2%}  test loss {final['loss']:.4f}  {val}({result['seconds']} s)  "
          f"run: {out}")
    if args.json:
        print(json.dumps(result))
    return 0


def cmd_evaluate(args):
    from .data import DataLoader
    from .data.catalog import get_dataset
    from .nn.functional import cross_entropy
    from .train import evaluate, load_checkpoint

    config = _read_config(args.run, "evaluate")
    entry = get_dataset(config["dataset"])
    model = _build_model(config["model"], entry.input_shape, entry.num_classes)
    load_checkpoint(os.path.join(args.run, CHECKPOINTS), model, restore_rng=False)
    _, test_set = entry.load(args.data_dir or config["data_dir"], False, config["seed"])
    result = evaluate(model, DataLoader(test_set, batch_size=256), cross_entropy, num_classes=entry.num_classes)
    print(f"{config['model']} on {entry.name}: test accuracy {result['accuracy']:.2%}, loss {result['loss']:.4f}")
    if args.json:
        print(json.dumps({"run": args.run, "test_accuracy": result["accuracy"], "test_loss": result["loss"]}))
    return 0


def _input_size(text):
    try:
        size = tuple(int(v) for v in text.lower().replace(",", "x").split("x"))
    except ValueError:
        raise ValueError(f"--input must look like 3x224x224, got {text!r}") from None
    if not size or min(size) <= 0:
        raise ValueError(f"--input must be positive sizes like 3x224x224, got {text!r}")
    return size


CIFAR_MODELS = ("alexnet_cifar", "densenet_cifar", "nin", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
                "vgg_cifar")
SMALL_MODELS = ("small_cnn", "mlp")


def _natural_input(name):
    """The input size a zoo model is built for (what summary and graph use without --input)."""
    if name == "lenet5":
        return (1, 28, 28)
    if name in ("lstm_classifier", "transformer_classifier"):
        return (1, 28, 28)  # the rows of an MNIST image as a sequence (of tokens)
    return (3, 32, 32) if name in CIFAR_MODELS else (1, 8, 8) if name in SMALL_MODELS else (3, 224, 224)


def cmd_summary(args):
    from .diagnostics import summary

    size = _input_size(args.input) if args.input else _natural_input(args.model)
    info = summary(_build_model(args.model, size, args.num_classes), size)
    print(info.to_json() if args.json else info)
    return 0


def cmd_graph(args):
    from . import manual_seed, no_grad, randint, randn, viz

    if args.batch < 1:
        raise ValueError(f"--batch must be at least 1, got {args.batch}")
    size = _input_size(args.input) if args.input else _natural_input(args.model)
    manual_seed(0)
    model = _build_model(args.model, size, args.num_classes)
    x = randn(args.batch, *size)
    with no_grad():
        classes = model(x[:1]).shape[-1]
    y = randint(0, classes, (args.batch,))
    out = args.out or f"{args.model}-graph.html"
    title = f"{args.model}: cross-entropy loss on a random batch of {args.batch}×{'×'.join(map(str, size))}"
    view = viz.model_graph(model, x, y, detail=args.detail, title=title)
    view.save(out)
    ops = sum(n["kind"] == "op" for n in view.nodes)
    print(f"{out}: {ops} ops, {len(view.nodes) - ops} leaves, {len(view.groups)} modules; open it in a browser")
    return 0


def cmd_lab(args):
    from . import lab

    if args.lab_command == "list":
        rows = [(name, module.NOTE, module.CLAIM) for name, module in lab.experiments().items()]
        print(_columns(("experiment", "notes", "claim"), rows))
        return 0
    if args.lab_command == "run":
        results = [lab.run(args.name, args.quick, args.seed, args.out)]
    else:
        results = lab.run_all(args.quick, args.seed, args.out)
    for r in results:
        print(f"{r.name:28s} {r.outcome:13s} {r.seconds:6.1f} s  {r.verdict}")
    print(f"report: {os.path.join(args.out, 'index.md' if args.lab_command == 'all' else results[0].name)}")
    return 0


def _plain(text):
    """A docstring's first paragraph as plain text: one line, without RST markup (``x``, :class:`X`, `x`)."""
    first = " ".join((text or "").split("\n\n")[0].split())
    first = re.sub(r":\w+:`~?([^`]*)`", r"\1", first)
    return re.sub(r"`{1,2}([^`]*)`{1,2}", r"\1", first)


def _columns(header, rows):
    """Aligned columns; the last one wrapped to the terminal's width (80 when not a terminal), its
    continuation lines indented under it."""
    import shutil
    import textwrap

    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    indent = sum(widths) + 2 * len(widths)
    width = max(shutil.get_terminal_size().columns, indent + 30)
    lines = []
    for row in [header, *rows]:
        lead = "".join(f"{c!s:{w}s}  " for c, w in zip(row, widths))
        wrapped = textwrap.wrap(str(row[-1]), width - indent, break_on_hyphens=False) or [""]
        lines += [lead + wrapped[0]] + [" " * indent + w for w in wrapped[1:]]
    return "\n".join(lines)


def cmd_models(args):
    from . import models
    from .models.registry import model_builder

    rows = [(name, _plain(inspect.getdoc(model_builder(name)))) for name in models.list_models()]
    print(_columns(("model", "description"), rows))
    return 0


def cmd_datasets(args):
    from .data.catalog import DATASETS

    for entry in DATASETS.values():
        status = "available" if entry.available(args.data_dir) else "missing  "
        shape = "×".join(map(str, entry.input_shape))
        print(f"{entry.name:14s} {status}  {shape:8s} {entry.num_classes:3d} classes  {entry.description}  "
              f"[{entry.where(args.data_dir)}]")
    return 0


def _launched_rank():
    """This process's rank in an mpiexec launch (0 when not launched by one), read from the launcher's
    environment without starting MPI."""
    return int(os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK") or 0)


def _out_of_memory(args, e):
    what = f" with --batch-size {args.batch_size}" if getattr(args, "batch_size", None) else ""
    return (f"out of memory{what} ({type(e).__name__}: {e}); try a smaller --batch-size or a smaller model, and "
            "close other programs")


def main(argv=None):
    args = _parser().parse_args(argv)
    commands = {"train": cmd_train, "evaluate": cmd_evaluate, "summary": cmd_summary, "models": cmd_models,
                "datasets": cmd_datasets, "lab": cmd_lab, "graph": cmd_graph}
    try:
        if getattr(args, "threads", None) is not None:
            from . import set_num_threads

            if args.threads < 1:
                raise ValueError(f"--threads must be at least 1, got {args.threads}")
            set_num_threads(args.threads)
        status = cmd_train(args, argv) if args.command == "train" else commands[args.command](args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return status
    except BrokenPipeError:  # `chainrule summary --json | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit stays quiet
        return 141  # 128 + SIGPIPE, what `cat` and `git` end with there
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except (*ERRORS, MemoryError) as e:
        if os.environ.get("CHAINRULE_DEBUG"):
            raise
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        if isinstance(e, MemoryError):
            message = _out_of_memory(args, e)
        # one line, even for a multi-line message (load_state_dict lists every mismatch on its own line)
        where = ""
        if getattr(args, "distributed", False) and "chainrule.distributed" in sys.modules:
            from .distributed import comm

            where = f" (rank {comm.rank()} of {comm.world_size()})" if comm.world_size() > 1 else ""
        line = f"chainrule: error{where}: {' '.join(str(message).split())}"
        if where:  # the other ranks wait in a collective for this one: end the whole job, the line printed once
            comm.abort(2, line)
        if _launched_rank() == 0:  # N copies under mpiexec without --distributed: say it once
            print(line, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
