"""Hook handles shared by tensors and modules: ``handle.remove()`` unregisters the hook."""
import itertools

_ids = itertools.count()


class RemovableHandle:
    """Returned by every ``register_*hook``; ``remove()`` takes the hook out of its registry."""

    def __init__(self, registry):
        self.registry, self.id = registry, next(_ids)

    def remove(self):
        self.registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add(registry, hook):
    handle = RemovableHandle(registry)
    registry[handle.id] = hook
    return handle
