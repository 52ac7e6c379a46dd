"""matplotlib with the file-only Agg backend, shared by the experiments."""


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
