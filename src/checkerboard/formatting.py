"""How numbers are written for people: in the tour, the figures, the run summary and the reports."""

from __future__ import annotations

import math


def number(v: float | int) -> str:
    """A whole value without decimals (2.0 -> "2"), any other in its shortest form ("0.5", "1e-06")."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def with_interval(centre: float | None, half: float | None) -> str:
    """``centre ± half``: the half-width to two significant digits, the centre to the same decimals."""
    if centre is None or not math.isfinite(centre):
        return "-"
    if half is None or not math.isfinite(half):
        return f"{centre:.4g}"
    decimals = max(0, 1 - math.floor(math.log10(half))) if half > 0 else 4
    return f"{centre:.{decimals}f} ± {half:.{decimals}f}"


def with_range(centre: float | None, lo: float | None, hi: float | None) -> str:
    """``centre [lo, hi]``, all to the decimals that show the range's width to two significant digits."""
    if centre is None or not math.isfinite(centre):
        return "-"
    if lo is None or hi is None:
        return f"{centre:.3g}"
    width = hi - lo
    decimals = min(4, max(0, 1 - math.floor(math.log10(width)))) if width > 0 else 2
    return f"{centre:.{decimals}f} [{lo:.{decimals}f}, {hi:.{decimals}f}]"


def tensorboard_command(logdir) -> str:
    """The command that shows a run (or a sweep), every picture kept, opening on the artifact."""
    # TensorBoard keeps 10 images per tag by default: every epoch's pictures need more.
    return (f"tensorboard --logdir {logdir} --samples_per_plugin images=1000\n"
            f"  then open http://localhost:6006/#custom_scalars (the artifact first) or #images")


#: Below this excess over its floor (grey levels RMS) the summary calls the checkerboard absent: a pattern
#: of 0.5 grey levels RMS is 1.3 levels peak to peak, under the one grey level an 8-bit image can show.
VISIBLE = 0.5


def amplitude_sentence(m: dict) -> str:
    """The artifact in a sentence: the DC-gain checkerboard beyond its floor, and the staircase apart."""
    d = m["decoder"]
    key = "val/checkerboard_amplitude/"
    if key + "checkerboard_excess" not in m:  # a run from before the floor was measured
        amp, start = m["val/checkerboard_amplitude"], m.get("init/checkerboard_amplitude")
        was = f", {start:.1f} before training" if start is not None else ""
        return f"  {d}: lattice amplitude {amp:.2f} grey levels RMS{was} (no floor measured)."
    excess, floor = m[key + "checkerboard_excess"], m[key + "checkerboard_floor"]
    start = m.get("init/checkerboard_amplitude/checkerboard_excess")
    was = f"; {start:.1f} before training" if start is not None else ""
    stair = m.get(key + "staircase", 0.0)
    staircase = (f" It also leaves a staircase of {stair:.1f} grey levels RMS on slopes (the steps a hold or a "
                 f"nearest resize leaves), not a checkerboard." if stair >= VISIBLE else "")
    if excess < VISIBLE:
        return (f"  {d} leaves no checkerboard beyond its floor: {m[key + 'checkerboard']:.1f} grey levels RMS, where "
                f"the same error with no fixed pattern reads {floor:.1f} (excess {excess:.2f}{was}).{staircase}")
    look = "; look at checkerboard/zoom" if "tensorboard" in m else ""
    return (f"  {d} leaves a checkerboard of {excess:.1f} grey levels RMS beyond its floor of {floor:.1f} (period 2: "
            f"{m[key + 'period2']:.2f}, finer: {m[key + 'finer']:.2f}){was}{look}. (A 1 % pattern, 2.6 grey "
            f"levels peak to peak, is about 1.){staircase}")


def summary(metrics: dict, out) -> str:
    """What a finished run prints: rounded, empty fields left out, the artifact read in a sentence."""
    m = {k: v for k, v in metrics.items() if v is not None}
    speed = f", {m['images_per_second']:,.0f} images/s" if "images_per_second" in m else ""
    epochs = f"{m['epochs']} epoch{'s' * (m['epochs'] != 1)}"
    lines = [f"\n{m['decoder']} on {m['data']}, seed {m['seed']}: {epochs} in {m['train_seconds']:.1f} s"
             f"{speed} ({m['threads']} threads, {m['device']})"]
    for split in ("val", "test"):
        if f"{split}/psnr" in m:
            lines.append(f"  {split:<4} PSNR {m[f'{split}/psnr']:.2f} dB   SSIM {m[f'{split}/ssim']:.3f}   "
                         f"loss {m[f'{split}/loss']:.4g}   prominence {m[f'{split}/checkerboard']:.2f}")
    if "compression" in m:
        after = ("a 3x3 convolution after the last x2 layer" if m.get("output_conv")
                 else "the last x2 layer writes the image")
        lines.append(f"  setting: {m['latent_values']:,} latent values ({m['compression']:g}x compression); {after}")
    if m.get("plateau_gain") is not None:
        what = m["plateau_rule"].split(" best")[0] if m.get("plateau_rule") else "val/psnr"
        lines.append(f"  {'converged' if m['converged'] else 'NOT converged'}: the best {what} gained "
                     f"{m['plateau_gain']:.2f} dB at the end (the rule: {m['plateau_rule']})"
                     + ("" if m["converged"] else "; more epochs (trainer.max_epochs) would still help"))
    if "val/checkerboard_amplitude" in m:
        lines.append(amplitude_sentence(m))
    if "val/samples_checkerboard_amplitude" in m:  # a VAE's or a GAN's samples
        start = m.get("init/samples_checkerboard_amplitude")
        was = f" ({start:.1f} before training)" if start is not None else ""
        found = (f", told from real images by their spectrum with a ROC AUC of {m['test/detectability']:.2f} (0.5 = "
                 f"not at all; {m.get('test/detectability_lattice', float('nan')):.2f} on the lattice frequencies "
                 f"alone)" if "test/detectability" in m else "")
        real = (f" (real images: {m['val/real_checkerboard_amplitude']:.1f})"
                if "val/real_checkerboard_amplitude" in m else "")
        lines.append(f"  samples: lattice content of {m['val/samples_checkerboard_amplitude']:.1f} grey levels RMS"
                     f"{real}{was}, "
                     f"spectral error {m['val/samples_spectral_error']:.2f} against real images{found}; "
                     f"look at val/prior_samples and checkerboard/samples_zoom.")
    if "test/fcd" in m:
        lines.append(f"  quality: FCD {m['test/fcd']:.3g} (real images: {m['test/fcd_floor']:.2g}; lower is better), "
                     f"class score {m['test/class_score']:.2f} (real images: {m['test/class_score_real']:.2f})")
    if "resumed_from" in m:
        lines.append(f"  resumed from {m['resumed_from']}")
    lines.append(f"run folder: {out}")
    if "tensorboard" in m:
        lines.append(f"look at it:  {tensorboard_command(m['tensorboard'])}")
    return "\n".join(lines)


def markdown_table(head: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table's lines: the header, the rule, one line a row."""
    return ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
