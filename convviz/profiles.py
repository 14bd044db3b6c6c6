"""Run profiles: how much data and how many epochs a notebook spends on training.

Every notebook's parameters cell calls :func:`get_profile` with the profile it
names; the ``CONVVIZ_PROFILE`` environment variable overrides that choice, so CI
can run every notebook in ``quick`` without editing it.

- ``quick``: CI and smoke tests. A small class-balanced subset, seconds per model.
- ``class``: the default. The full training set, 3 epochs: under a minute to about 4 minutes
  per model on a 2-core laptop CPU or a Binder instance, so that a notebook's trainings fit 10 minutes.
- ``full``: a GPU. Long enough to reproduce the reference results in ``results/``.
"""
from __future__ import annotations

import dataclasses
import os

ENV_VAR = "CONVVIZ_PROFILE"
DEFAULT = "class"


@dataclasses.dataclass(frozen=True)
class Profile:
    """Training budget of one run profile.

    ``train_size`` / ``test_size`` of ``None`` mean the whole official split.
    ``learning_rate`` is the peak of a linear warm-up followed by cosine decay (SGD with
    Nesterov momentum; ``weight_decay`` is decoupled, applied as ``lr * weight_decay`` a step).
    """

    name: str
    train_size: int | None
    test_size: int | None
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    warmup_epochs: float
    augment: bool = True

    def scaled(self, **changes) -> "Profile":
        """A copy with some fields changed (for example ``epochs=3``)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(
                f"Profile.scaled got unknown field(s) {sorted(unknown)}; "
                f"allowed: {[f.name for f in dataclasses.fields(self)]}"
            )
        return dataclasses.replace(self, **changes)


PROFILES: dict[str, Profile] = {
    "quick": Profile("quick", train_size=1000, test_size=500, epochs=2, batch_size=100,
                     learning_rate=0.05, weight_decay=5e-5, warmup_epochs=0.0),
    # Batch 64 at peak 0.1 (the same rate per image as 128 at 0.2): twice the steps in the
    # same 3 epochs, CPU time per image within the scatter of batch 128 on a 2-core CPU, and
    # half the activation memory. The MobileNet reaches 66.4 % (results/class/mobilenet.json;
    # 65.0-66.2 % at batch 128).
    "class": Profile("class", train_size=None, test_size=None, epochs=3, batch_size=64,
                     learning_rate=0.1, weight_decay=5e-5, warmup_epochs=0.3),
    "full": Profile("full", train_size=None, test_size=None, epochs=40, batch_size=256,
                    learning_rate=0.2, weight_decay=5e-4, warmup_epochs=2.0),
}


def get_profile(name: str | Profile | None = None) -> Profile:
    """Return the run profile to use.

    ``CONVVIZ_PROFILE`` wins over ``name``; with neither, ``class``.
    A :class:`Profile` instance is returned unchanged (unless the variable is set).
    """
    env = os.environ.get(ENV_VAR, "").strip()
    chosen = env or name or DEFAULT
    if isinstance(chosen, Profile):
        return chosen
    if not isinstance(chosen, str) or chosen not in PROFILES:
        where = f"environment variable {ENV_VAR}" if env else "profile"
        raise ValueError(f"unknown {where} {chosen!r}; allowed: {sorted(PROFILES)}")
    return PROFILES[chosen]
