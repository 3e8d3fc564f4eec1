"""Each decoder over training budgets: the plateau across budgets, for a report of one sweep per budget.

Under a cosine schedule a run's own rule (callbacks.plateau: less than 0.1 dB over its last fifth) is
met on the annealed tail while a run twice as long can still end higher. The test that names a plateau
is across budgets: the same decoder and seed trained for B and for 2B epochs, seed by seed. A table row
per decoder: how many of its runs met their own rule at each budget, its mean PSNR (a GAN: FCD) and
checkerboard measure at each, and the gain of its longest budget over the one before, in dB (a PSNR's
rise; an FCD's fall as 10 log10(before / after), as the rule reads a GAN). "Plateau" where that mean
gain is under `MIN_DELTA`, the rule's own 0.1 dB.
"""

from __future__ import annotations

import math

from checkerboard.formatting import markdown_table, with_interval
from checkerboard.reports.statistics import finite, mean_ci
from checkerboard.reports.sweeps import natural

BUDGET = "trainer.max_epochs"
MIN_DELTA = 0.1  # dB: callbacks.plateau's min_delta


def _keys(rows: list[dict]) -> tuple[str, str, str]:
    """(monitor, its name, the artifact measure): PSNR for an autoencoder or a VAE, FCD for a GAN (no
    reconstructions); the samples' amplitude for a VAE or a GAN, else the reconstructions' checkerboard excess."""
    has = lambda key: any(finite(r["by_seed"][key].values()) for r in rows)  # noqa: E731
    samples = "val/samples_checkerboard_amplitude"
    artifact = samples if has(samples) else "val/checkerboard_amplitude/checkerboard_excess"
    return ("val/psnr", "PSNR (dB)", artifact) if has("val/psnr") else ("test/fcd", "FCD", artifact)


def gain_db(monitor: str, later: float | None, earlier: float | None) -> float | None:
    """What the later run gained in dB: a PSNR's rise, an FCD's fall as 10 log10(earlier / later)."""
    if later is None or earlier is None or not (math.isfinite(later) and math.isfinite(earlier)):
        return None
    if monitor == "val/psnr":
        return later - earlier
    return 10 * math.log10(earlier / later) if later > 0 and earlier > 0 else None


def _mean(values) -> str:
    mean = mean_ci(list(values))[0]
    return "-" if math.isnan(mean) else f"{mean:.2f}"


def budget_lines(rows: list[dict]) -> list[str]:
    """The budget table (module docstring) for every data and setting whose rows differ in `BUDGET` alone;
    no lines where the report has one budget."""
    groups: dict[tuple, dict[str, list[dict]]] = {}
    for r in rows:
        if r["seeds_finished"] and BUDGET in r["setting_values"]:
            rest = tuple(sorted((k, v) for k, v in r["setting_values"].items() if k != BUDGET))
            groups.setdefault((r["data"], rest), {}).setdefault(r["decoder"], []).append(r)
    lines = []
    for (data, rest), decoders in groups.items():
        members = [r for rs in decoders.values() for r in rs]
        budgets = sorted({r["setting_values"][BUDGET] for r in members}, key=natural)
        if len(budgets) < 2:
            continue
        monitor, name, artifact = _keys(members)
        arrow = " -> ".join(budgets)
        table = []
        for decoder, rs in decoders.items():
            rs = sorted(rs, key=lambda r: natural(r["setting_values"][BUDGET]))
            at = {r["setting_values"][BUDGET]: r for r in rs}
            cells = [" / ".join(f"{at[b]['converged']}/{at[b]['seeds_finished']}" if b in at else "-" for b in budgets)]
            for key in (monitor, artifact):
                cells.append(" -> ".join(_mean(at[b]["by_seed"][key].values()) if b in at else "-" for b in budgets))
            gain, plateau = "-", "-"
            if len(rs) > 1:
                later, earlier = rs[-1]["by_seed"][monitor], rs[-2]["by_seed"][monitor]
                gains = [g for s in later if s in earlier
                         if (g := gain_db(monitor, later[s], earlier[s])) is not None]
                mean, half = mean_ci(gains)
                if gains:
                    gain = (f"{rs[-1]['setting_values'][BUDGET]} - {rs[-2]['setting_values'][BUDGET]}: "
                            f"{with_interval(mean, half)} ({len(gains)} seeds)")
                    plateau = "yes" if mean < MIN_DELTA else "no"
            table.append([f"`{decoder}`", *cells, gain, plateau])
        where = " ".join([data] + [f"{k}={v}" for k, v in rest])
        lines += [f"### Each decoder over the budgets {arrow} epochs ({where})", "",
                  f"Means over seeds at each budget. The last column pairs each decoder's longest budget with "
                  f"the one before, seed by seed: the mean gain in dB (95 % t half-width), and \"plateau\" "
                  f"where it is under {MIN_DELTA} dB. A run's own rule (converged) can hold on a cosine "
                  f"schedule's annealed tail while a longer run still ends higher.", "",
                  *markdown_table(["decoder", f"converged at {' / '.join(budgets)}", f"{name}, {arrow}",
                                   f"{_heading(artifact)}, {arrow}", "gain of the last budget (dB)",
                                   "plateau across budgets"], table), ""]
    return lines


def _heading(key: str) -> str:
    return "checkerboard excess" if key.endswith("checkerboard_excess") else "sample amplitude"
