"""The lab's learning-rate/scaling, normal-equation, architecture and conv-arithmetic experiments, each run once
in its quick version (seed 0) by calling the module's ``run`` into a temporary folder, then written into a
report. Asserted: the verdicts and the figures that decide them, as measured — exact where the figure is
deterministic arithmetic (parameter counts, MACs, output sizes, receptive fields, iteration counts), and only
their consistency where it is a wall-clock time on a shared machine (the normal equation vs gradient descent)."""
import html
import re

import pytest
from threadpoolctl import threadpool_limits

from chainrule.lab import architectures, conv_arithmetic, learning_rate_and_scaling, normal_equation_vs_gd
from chainrule.lab.base import MODULES, Result
from chainrule.lab.report import write_index, write_pages

EXPERIMENTS = (learning_rate_and_scaling, normal_equation_vs_gd, architectures, conv_arithmetic)


@pytest.fixture(scope="module")
def lab_out(tmp_path_factory):
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="module")
def results(lab_out):
    """Every experiment's quick run into ``lab_out/<NAME>/`` (one BLAS thread: many small products on a shared
    machine, where a second thread mostly waits)."""
    out = {}
    with threadpool_limits(1):
        for module in EXPERIMENTS:
            folder = lab_out / module.NAME
            folder.mkdir()
            result = module.run(quick=True, seed=0, out=str(folder))
            result.quick = True
            out[module.NAME] = (result, folder)
    return out


def _check_shape(module, result, folder):
    assert isinstance(result, Result)
    assert (result.name, result.note, result.claim) == (module.NAME, module.NOTE, module.CLAIM)
    assert module.NAME.replace("-", "_") in MODULES
    assert isinstance(result.held, bool) and result.verdict and result.setup
    assert result.figures and all(f.endswith(".png") for f in result.figures)
    for f in result.figures:
        assert (folder / f).stat().st_size > 10_000, f
    result.save(str(folder))  # the numbers are JSON-serializable


def test_learning_rate_and_scaling(results):
    result, folder = results["learning-rate-and-scaling"]
    _check_shape(learning_rate_and_scaling, result, folder)
    assert result.held is True
    one, two = result.numbers["learning_rate"]["one parameter"], result.numbers["learning_rate"]["two parameters"]
    # too small (0.01 · 2/λ_max) crawls: ~76× the good rate's iterations with one parameter, the cap with two
    assert one["too small_converged"] and 600 <= one["too small_iterations"] <= 800
    assert 7 <= one["good_iterations"] <= 11 and one["too small_iterations"] >= 10 * one["good_iterations"]
    assert not two["too small_converged"] and two["too small_iterations"] == 2000
    assert 90 <= two["good_iterations"] <= 130
    # large (0.95) converges but overshoots at every step; too large (1.05) diverges, the cost rises
    for f in (one, two):
        assert f["large_converged"] and f["large_overshoot_fraction"] == 1.0 and f["good_overshoot_fraction"] == 0.0
        assert not f["too large_converged"] and f["too_large_cost_at_divergence"] > f["too_large_initial_cost"]
    assert one["too large_iterations"] == 1
    scaling = result.numbers["scaling"]
    assert set(scaling) == {"1", "3", "10", "30"}
    for s in scaling.values():
        assert s["standardized_converged"] and s["standardized_iterations"] <= 6 and s["standardized_condition"] < 1.2
        assert s["unscaled_excess_cost"] < 1e-6 and s["standardized_excess_cost"] < 1e-6
    # elongated contours: κ ≈ ratio², iterations ∝ κ
    assert 70 < scaling["10"]["unscaled_condition"] < 120 and 700 < scaling["30"]["unscaled_condition"] < 1000
    assert 800 <= scaling["10"]["unscaled_iterations"] <= 1300
    assert 6000 <= scaling["30"]["unscaled_iterations"] <= 11000
    assert "diverged" in result.verdict and "κ" in result.verdict


def test_normal_equation_vs_gd(results):
    result, folder = results["normal-equation-vs-gd"]
    _check_shape(normal_equation_vs_gd, result, folder)
    rows = result.numbers["rows"]
    assert [r["p"] for r in rows] == [10, 50, 200, 500] and result.numbers["n"] == 2000
    # deterministic: gradient descent needs more iterations as p grows toward n (κ grows)
    iterations = [r["gd_iterations"] for r in rows]
    assert iterations == sorted(iterations) and iterations[-1] >= 4 * iterations[0]
    assert all(r["gd_converged"] and r["gd_excess_cost"] < 1e-7 for r in rows)  # (J − J_normal)/J_normal
    assert all(r["gd_loose_iterations"] < r["gd_iterations"] for r in rows)
    # timings: only their consistency with the verdict (a shared machine decides the margins); a solver wins at p
    # when it was faster in at least 4 of the 5 back-to-back rounds, else it is a tie
    assert normal_equation_vs_gd.winner([1, 1, 1, 1, 9], [2, 2, 2, 2, 2]) == "normal"  # one disturbed round
    assert normal_equation_vs_gd.winner([1, 1, 1, 3, 3], [2, 2, 2, 2, 2]) == "tie"
    assert normal_equation_vs_gd.winner([3, 3, 3], [2, 2, 2]) == "gd"
    for r in rows:
        for key in ("gd", "gd_loose"):
            assert r[f"{key}_winner"] == normal_equation_vs_gd.winner(r["times"]["normal"], r["times"][key])
    winners = [r["gd_winner"] for r in rows]
    assert result.numbers["normal_faster_everywhere"] == (set(winners) == {"normal"})
    assert result.numbers["gd_clearly_faster_at"] == [r["p"] for r in rows if r["gd_winner"] == "gd"]
    assert (result.numbers["crossover"]["gd"] is None) == (winners[-1] != "gd")
    if set(winners) == {"normal"}:
        assert "no crossover below the notes' 10,000" in result.verdict
    assert "never beaten" not in result.verdict  # a tie is reported as a tie, with its median ratio and rounds
    for r in rows:
        if r["gd_winner"] == "tie":
            assert f"{r['p']:,} ({r['gd_s'] / r['normal_s']:.2f}×, gradient descent won" in result.verdict
    singular = result.numbers["singular"]
    assert [c["rank"] for c in singular.values()] == [3, 1, 29]
    for c in singular.values():
        assert c["warned"] and "pseudo-inverse" in c["message"]
        assert c["coef_vs_pinv"] < 1e-10 and c["cost_normal"] == pytest.approx(c["cost_pinv"], rel=1e-9, abs=1e-12)
        assert not c["gd_warned"] and c["cost_gd"] == pytest.approx(c["cost_pinv"], rel=1e-6, abs=1e-9)
    # the singular part held (asserted above), so the timings decide: held only where the normal equation won at
    # every p, in part otherwise
    assert result.held == (set(winners) == {"normal"}) and result.in_part == (not result.held)
    assert "LinAlgWarning" in result.verdict


def test_architectures(results):
    result, folder = results["architectures"]
    _check_shape(architectures, result, folder)
    assert result.held is True
    zoo = result.numbers["zoo"]
    assert "VGG-16" not in zoo  # left out of the quick run (its 138M weights take ~10 s to build)
    params = {"LeNet-5": 61_706, "AlexNet": 61_100_840, "NiN": 966_986, "GoogLeNet": 6_624_904,
              "ResNet-18": 11_689_512, "ResNet-50": 25_557_032, "DenseNet-121": 7_978_856}
    assert {m: z["params"] for m, z in zoo.items()} == params
    assert {m: zoo[m]["receptive_field"] for m in ("ResNet-18", "ResNet-50", "DenseNet-121")} == {
        "ResNet-18": 435, "ResNet-50": 427, "DenseNet-121": 2071}
    assert zoo["NiN"]["fc_params"] == 0 and zoo["AlexNet"]["fc_share"] > 0.95 and zoo["ResNet-18"]["fc_share"] < 0.05
    stacks = result.numbers["stacked_3x3"]
    assert stacks["5x5"]["param_ratio"] == pytest.approx(18 / 25)
    assert stacks["7x7"]["param_ratio"] == pytest.approx(27 / 49)
    for s in stacks.values():
        assert s["stacked"]["receptive_field"] == s["single"]["receptive_field"] == s["kernel"]
    inc = result.numbers["inception"]
    assert (inc["naive"]["params"], inc["reduced"]["params"]) == (387_072, 163_328)
    assert (inc["naive"]["macs"], inc["reduced"]["macs"]) == (387_072 * 784, 163_328 * 784)
    assert (inc["naive"]["output"][0], inc["reduced"]["output"][0]) == (416, 256)
    assert inc["five_by_five_branch"] == {"naive": 153_600, "reduced": 15_872, "saving": pytest.approx(9.677, abs=1e-3)}
    assert inc["time_saving"] > 0  # measured and reported, not asserted: a shared machine decides it
    assert "18/25" in result.verdict and "2.4×" in result.verdict


def test_conv_arithmetic(results):
    result, folder = results["conv-arithmetic"]
    _check_shape(conv_arithmetic, result, folder)
    assert result.held is True
    n = result.numbers
    assert n["cases"] == 90 and n["size_mismatches"] == 0
    assert n["notes_example_128_3x3_s2_same"] == 64 and n["notes_example_padding"] == [0, 1]
    assert n["valid_shrinks"] and n["same_keeps_at_stride_1"] and n["full_grows"]
    assert n["pooling_ok"] and (n["pooling"][0]["floor_measured"], n["pooling"][0]["ceil_measured"]) == (55, 56)
    fields = n["receptive_field"]
    assert fields["stride1"]["measured"] == [2 * d + 1 for d in range(1, 9)]
    assert fields["stride2"]["measured"] == [3, 5, 9, 13, 21, 29, 45, 61]
    for f in fields.values():
        assert f["formula"] == f["library"] == f["summary"] == f["measured"]
    assert "64×64" in result.verdict


def test_report_pages_and_index(results, lab_out):
    ordered = [results[m.NAME] for m in EXPERIMENTS]
    for result, folder in ordered:
        write_pages(result, str(folder))
    index = write_index([r for r, _ in ordered], str(lab_out))
    index_md = (lab_out / "index.md").read_text()
    index_html = (lab_out / "index.html").read_text()
    assert index == str(lab_out / "index.md")
    for result, folder in ordered:
        name = result.name
        assert f"[{name}]({name}/{name}.md)" in index_md and f"href='{name}/{name}.html'" in index_html
        verdict = result.outcome
        assert re.search(rf"\| \[{re.escape(name)}\].*\| {verdict} \|", index_md)
        md = (folder / f"{name}.md").read_text()
        images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
        assert images == result.figures and all((folder / img).is_file() for img in images)
        assert f"Verdict: {result.outcome.upper()}." in md and "only in part" not in md
        assert "### Numbers" in md and "{'" not in md  # the numbers as tables, never a raw dict
        page = (folder / f"{name}.html").read_text()
        assert page.count("src='data:image/png;base64,") == len(result.figures)
        assert not re.search(r"src='(?!data:)", page)  # self-contained: no image fetched from a file
        assert html.escape(result.claim) in page and html.escape(result.verdict) in page
