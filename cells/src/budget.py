"""The run's time budget: one deadline, an allowance per heavy step, sizes from measured rates.

cfg.time_budget_minutes (the notebook parameter TIME_BUDGET_MINUTES; 0 = the mode's default,
config.DEFAULT_TIME_BUDGET_MINUTES) is the wall time the whole run may take, counted from
setup_run.init. PLAN lists the steps in notebook order, of two kinds:
- steps that cannot be sized (cleaning, the sklearn baselines, the hybrid, evaluation, the
  report) hold an estimate, a fraction of the budget, until the run has passed them;
- steps that can be sized (embedding rows, fine-tuning rows x epochs, LSTM rows, Optuna
  trials, explained examples) ask for their allowance when they start: the time left to the
  deadline, less a safety margin and the estimates of the unsizable steps still to come,
  shared by weight among the sized steps still to come. A step that finishes early leaves its
  time to the next ones; one that overruns takes it from them: the plan is redone at every step.
Each sized step measures its own rate (timed batches, the fine-tuning pre-check's timed steps,
its first Optuna trial or explanation) and asks how much fits. What was cut, with the measured
rates, goes to NOTES.md ("time budget") and summary.txt ("Time budget"); the plan and each
step's allowed vs actual seconds to experiments/time_budget.json.

    import budget
    b = budget.current(cfg, paths)
    with b.step("lstm") as st:              # st.allowance: seconds; st.left(): what remains of it
        n = st.rows_that_fit(4e-3, cap=60_000, minimum=2_000, what="LSTM training rows", rate="250 rows/s")
"""
from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

STATE_FILE = "time_budget.json"  # in experiments/
NOTES_TOPIC = "time budget"
SUMMARY_STEP = "Time budget"


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    weight: float = 0.0  # > 0: sized; its share of the time left for the sized steps still to come
    reserve: float = 0.0  # unsized: the fraction of the budget held for it until the run has passed it


# Notebook order. Weights and reserves come from the 2-core runs of the README benchmark (the
# sklearn baselines ~15 % of a 60-minute CPU run, the hybrid ~10 %); fine-tuning gets the
# largest share because it gains the most from more rows and epochs.
PLAN = (
    Spec("prepare", "Steps 1-4: setup, EDA, cleaning, TF-IDF", reserve=0.04),
    Spec("embeddings", "Step 4: BERT [CLS] embeddings", weight=1.0),
    Spec("baselines", "Step 5: sklearn baselines", reserve=0.15),
    Spec("lstm", "Step 5: Keras LSTM", weight=1.0),
    Spec("hybrid", "Step 5b: hybrid model", reserve=0.10),
    Spec("embeddings_lr", "Step 5c: LogReg on the [CLS] embeddings", reserve=0.02),
    Spec("finetune", "Step 6: fine-tuning", weight=4.0),
    Spec("tuning", "Step 7: Optuna", weight=1.5),
    Spec("refit", "Step 7: the best values re-fitted", reserve=0.03),
    Spec("evaluate", "Step 8: evaluation", reserve=0.05),
    Spec("interpret", "Step 9: LIME/SHAP", weight=0.5),
    Spec("deliver", "Steps 10-12: serving, report, delivery", reserve=0.05),
)
SPECS = {s.key: s for s in PLAN}


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _min(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def per_second(n: float, seconds: float, unit: str) -> str:
    """A measured rate in words, e.g. '41.3 rows/s' or '12.0 s per trial' when below one per second."""
    if seconds <= 0:
        return f"{n:g} {unit} in no measurable time"
    r = n / seconds
    return f"{r:,.1f} {unit}/s" if r >= 1 else f"{seconds / max(n, 1e-9):.1f} s per {unit.rstrip('s')}"


# --- sizing arithmetic (pure; unit-tested) ------------------------------------------------

@dataclass
class Sizing:
    """What fits: rows x epochs (+ evaluation rows per epoch) and the seconds that should take."""
    rows: int
    epochs: float
    eval_rows: int
    seconds: float
    fits: bool  # False: even the minimum exceeds the allowance (the caller decides: a faster model, or overrun)
    cuts: list[str] = field(default_factory=list)

    @property
    def cut_rows(self) -> bool:
        return any(c.startswith("rows") for c in self.cuts)


def size_training(allowance: float, *, rows: int, epochs: float, seconds_per_row: float, eval_rows: int = 0,
                  seconds_per_eval_row: float = 0.0, fixed_seconds: float = 0.0, seconds_per_epoch: float = 0.0,
                  min_rows: int = 1, min_epochs: float = 1.0, min_eval_rows: int = 0,
                  eval_share: float = 0.15) -> Sizing:
    """Rows, epochs and evaluation rows that fit `allowance` seconds, cut in this order:
    1. evaluation rows, so evaluating after every epoch takes at most `eval_share` of the time;
    2. epochs, down to `min_epochs`, every row kept (more distinct rows beat repeated ones);
    3. training rows, down to `min_rows`.
    Cost model: fixed + epochs x (rows x seconds_per_row + seconds_per_epoch) + ceil(epochs) x
    eval_rows x seconds_per_eval_row (an evaluation ends every started epoch)."""
    min_rows = max(1, min(int(min_rows), int(rows)))
    min_eval = min(int(min_eval_rows), int(eval_rows))
    min_epochs = min(float(min_epochs), float(epochs))

    def cost(r: int, e: float, v: int) -> float:
        return fixed_seconds + e * (r * seconds_per_row + seconds_per_epoch) + math.ceil(e) * v * seconds_per_eval_row

    r, e, v = int(rows), float(epochs), int(eval_rows)
    cuts: list[str] = []
    if seconds_per_eval_row > 0 and math.ceil(e) * v * seconds_per_eval_row > eval_share * allowance:
        v = max(min_eval, int(eval_share * allowance / (math.ceil(e) * seconds_per_eval_row) + 1e-9))
        if v < eval_rows:
            cuts.append(f"evaluation rows {eval_rows:,} -> {v:,}")
    if cost(r, e, v) > allowance and e > min_epochs:
        # the largest tenth of an epoch that fits, evaluation passes included
        best = min_epochs
        k = int(e * 10)
        while k >= int(math.ceil(min_epochs * 10)):
            if cost(r, k / 10, v) <= allowance:
                best = k / 10
                break
            k -= 1
        if best < e:
            cuts.append(f"epochs {e:g} -> {best:g}")
            e = best
    if cost(r, e, v) > allowance and r > min_rows and seconds_per_row > 0:
        room = (allowance - fixed_seconds - math.ceil(e) * v * seconds_per_eval_row) / e - seconds_per_epoch
        fit = max(min_rows, min(r, int(room / seconds_per_row))) if room > 0 else min_rows
        if fit < r:
            cuts.append(f"rows {r:,} -> {fit:,}")
            r = fit
    total = cost(r, e, v)
    return Sizing(rows=r, epochs=e, eval_rows=v, seconds=round(total, 1), fits=total <= allowance, cuts=cuts)


# --- one step's share ---------------------------------------------------------------------

class StepBudget:
    """A sized step's allowance (seconds, fixed when it starts) and what it did with it."""

    def __init__(self, owner: "Budget", key: str, allowance: float, started: float):
        self.owner = owner
        self.key = key
        self.title = SPECS[key].title
        self.allowance = float(allowance)
        self.started = float(started)
        self.finished: Optional[float] = None
        self.rates: dict[str, str] = {}
        self.cuts: list[str] = []
        self.facts: dict[str, Any] = {}

    def elapsed(self) -> float:
        return (self.finished or self.owner.clock()) - self.started

    def left(self) -> float:
        """Seconds of this step's allowance not yet used (0 when overrun)."""
        return max(0.0, self.allowance - self.elapsed())

    def fits_another(self, item_seconds: float) -> bool:
        """Whether one more item of `item_seconds` (a trial, an explanation) fits what is left."""
        return item_seconds <= self.left()

    def rate(self, what: str, text: str) -> None:
        """Record a measured rate, e.g. rate("all-MiniLM-L6-v2 embedding", "41 rows/s")."""
        self.rates[what] = text
        self.owner.save()

    def cut(self, text: str) -> None:
        """Record what the budget took away (NOTES.md and summary.txt list it with the rates)."""
        if text not in self.cuts:
            self.cuts.append(text)
        self.owner.save()

    def rows_that_fit(self, seconds_per_row: float, *, cap: int, minimum: int = 1, fixed_seconds: float = 0.0,
                      what: str = "rows", rate: str = "", record: bool = True) -> int:
        """How many rows (or items) of `seconds_per_row` fit what is left, between min(minimum, cap) and cap."""
        floor_n = max(0, min(int(minimum), int(cap)))
        avail = self.left() - fixed_seconds
        n = int(cap) if seconds_per_row <= 0 else int(max(0.0, avail) / seconds_per_row)
        n = max(floor_n, min(int(cap), n))
        if rate:
            self.rates[what] = rate
        if record and n < cap:
            self.cuts.append(f"{what}: {n:,} of {int(cap):,} ({_min(self.allowance)} allowed"
                             + (f"; {rate}" if rate else "") + ")")
        self.owner.save()
        return n

    def record_sizing(self, what: str, sizing: Sizing, rate: str = "") -> None:
        if rate:
            self.rates[what] = rate
        self.facts[what] = {"rows": sizing.rows, "epochs": sizing.epochs, "eval_rows": sizing.eval_rows,
                            "planned_seconds": sizing.seconds}
        if sizing.cuts:
            self.cuts.append(f"{what}: " + ", ".join(sizing.cuts) + f" ({_min(self.allowance)} allowed"
                             + (f"; {rate}" if rate else "") + ")")
        if not sizing.fits:
            self.cuts.append(f"{what}: even the minimum ({sizing.rows:,} rows x {sizing.epochs:g} epochs) needs "
                             f"~{_min(sizing.seconds)}, more than the {_min(self.allowance)} allowed: "
                             "it runs anyway and takes the time from later steps")
        self.owner.save()

    def paced(self, items: list, *, share: float = 1.0, what: str = "items") -> Iterator:
        """Yield items while the next one, at the mean time per item so far, fits `share` of what
        was left when pacing began (the first item always runs); a stop is recorded as a cut."""
        limit = self.left() * share
        t0 = self.owner.clock()
        for k, item in enumerate(items):
            if k:
                used = self.owner.clock() - t0
                if used + used / k > limit:
                    self.rates[what] = f"{used / k:.1f} s each"
                    self.cut(f"{what}: {k} of {len(items)} ({_min(limit)} for them; {used / k:.1f} s each)")
                    return
            yield item

    def trial_guard(self, study, n_trials: int, what: str = "Optuna trials") -> bool:
        """Whether another Optuna trial fits what is left (judged by the mean finished trial); when
        it does not, the study is stopped and the cut recorded."""
        done = [t for t in study.trials if t.datetime_complete and t.datetime_start]
        if not done or len(done) >= n_trials:
            return True
        mean = sum((t.datetime_complete - t.datetime_start).total_seconds() for t in done) / len(done)
        if self.fits_another(mean):
            return True
        self.rates[what] = f"{mean:.1f} s per trial"
        self.cut(f"{what}: {len(done)} of {n_trials} ({_min(self.allowance)} allowed; {mean:.1f} s per trial)")
        study.stop()
        return False

    def optuna_stopper(self, n_trials: int, what: str = "Optuna trials") -> Callable:
        """An Optuna callback (study.optimize(callbacks=...)): stop once the mean trial no longer fits."""
        def callback(study, trial) -> None:
            self.trial_guard(study, n_trials, what)
        return callback

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "allowed_seconds": round(self.allowance, 1), "started": _iso(self.started),
                "actual_seconds": round(self.elapsed(), 1) if self.finished else None,
                "finished": _iso(self.finished) if self.finished else None, "rates": dict(self.rates),
                "cuts": list(self.cuts), "facts": dict(self.facts)}


def keras_epoch_guard(st: StepBudget, what: str = "training"):
    """A Keras callback that ends fit() after an epoch once another epoch would not fit what is
    left of `st` (the sizing rests on a short probe; later epochs can be slower). Built lazily:
    no Keras import unless a Keras step asks."""
    import keras

    class EpochGuard(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = st.owner.clock()

        def on_epoch_end(self, epoch, logs=None):
            took = st.owner.clock() - getattr(self, "_t0", st.owner.clock())
            total = int(self.params.get("epochs") or 0)
            if epoch + 1 < total and st.left() < took:
                self.model.stop_training = True
                st.cut(f"{what} stopped after epoch {epoch + 1} of {total}: the next (~{_min(took)}) would not fit "
                       f"the {_min(st.left())} left")

    return EpochGuard()


# --- the run's budget ---------------------------------------------------------------------

class Budget:
    """The run's deadline and the steps that asked for a share of it."""

    def __init__(self, minutes: float, run_mode: str = "full", paths=None, margin_fraction: float = 0.05,
                 started: Optional[float] = None, clock: Callable[[], float] = time.time):
        self.minutes = float(minutes)
        self.run_mode = run_mode
        self.paths = paths
        self.clock = clock
        self.total = self.minutes * 60.0
        self.started = float(started if started is not None else clock())
        self.deadline = self.started + self.total
        # At least a minute, but never a quarter of a tiny (test) budget.
        self.margin = min(max(margin_fraction * self.total, 60.0), 0.25 * self.total)
        self.estimates = {s.key: s.reserve * self.total for s in PLAN if not s.weight}
        self.steps: dict[str, StepBudget] = {}
        self.initial_plan = self.plan()

    # -- planning
    def remaining(self) -> float:
        return self.deadline - self.clock()

    def estimate(self, key: str, seconds: float) -> None:
        """Raise an unsized step's estimate once something is known about it (e.g. Step 8 scoring
        the test split with the fine-tuned model, from the pre-check's measured rate)."""
        self.estimates[key] = max(self.estimates.get(key, 0.0), float(seconds))

    def allowance(self, key: str) -> float:
        """Seconds `key` may take if it starts now (re-planned from the time left)."""
        spec = SPECS[key]
        if not spec.weight:
            raise ValueError(f"{key!r} is not a sized step")
        i = PLAN.index(spec)
        later = [s for s in PLAN[i + 1:] if s.key not in self.steps]
        held = sum(self.estimates[s.key] for s in later if not s.weight)
        weights = spec.weight + sum(s.weight for s in later if s.weight)
        return max(0.0, self.remaining() - self.margin - held) * spec.weight / weights

    def plan(self) -> dict[str, float]:
        """Seconds per step if every remaining step started now in order (the initial plan at start)."""
        out: dict[str, float] = {}
        left = max(0.0, self.remaining() - self.margin - sum(self.estimates[s.key] for s in PLAN
                                                            if not s.weight and s.key not in self.steps))
        weights = sum(s.weight for s in PLAN if s.weight and s.key not in self.steps)
        for s in PLAN:
            if s.key in self.steps:
                continue
            out[s.key] = round(self.estimates[s.key] if not s.weight else left * s.weight / weights, 1)
        return out

    # -- steps
    def begin(self, key: str) -> StepBudget:
        """Start `key` (idempotent while it is open: a pre-check and the run share one allowance)."""
        st = self.steps.get(key)
        if st is not None and st.finished is None:
            return st
        st = StepBudget(self, key, self.allowance(key), self.clock())
        self.steps[key] = st
        print(f"[budget] {st.title}: {_min(st.allowance)} allowed ({_min(max(0.0, self.remaining()))} "
              f"left of {self.minutes:g} min)")
        self.save()
        return st

    def finish(self, key: str, **facts: Any) -> StepBudget:
        st = self.steps.get(key) or self.begin(key)
        st.facts.update(facts)
        if st.finished is None:
            st.finished = self.clock()
        self.save(write_logs=True)
        return st

    @contextlib.contextmanager
    def step(self, key: str) -> Iterator[StepBudget]:
        """begin(key) ... finish(key); a step that raises is still recorded with its time."""
        st = self.begin(key)
        try:
            yield st
        finally:
            self.finish(key)

    # -- records
    def to_dict(self) -> dict[str, Any]:
        return {"minutes": self.minutes, "run_mode": self.run_mode, "started": _iso(self.started),
                "deadline": _iso(self.deadline), "margin_seconds": round(self.margin, 1),
                "initial_plan_seconds": self.initial_plan,
                "estimates_seconds": {k: round(v, 1) for k, v in self.estimates.items()},
                "steps": {k: st.to_dict() for k, st in self.steps.items()},
                "seconds_used": round(self.clock() - self.started, 1)}

    def notes_text(self) -> str:
        lines = [f"Budget {self.minutes:g} min (TIME_BUDGET_MINUTES; 0 = the {self.run_mode} default) from "
                 f"{_iso(self.started)}, {_min(self.margin)} held back as a margin. Each sized step gets its share "
                 "of the time left when it starts; the rates below are measured on this runtime."]
        for key in [s.key for s in PLAN if s.key in self.steps]:
            st = self.steps[key]
            took = f"took {_min(st.elapsed())}" if st.finished else "running"
            rates = "; ".join(f"{k}: {v}" for k, v in st.rates.items())
            cut = " Cut: " + "; ".join(st.cuts) + "." if st.cuts else " Nothing cut."
            lines.append(f"- {st.title}: {_min(st.allowance)} allowed, {took}."
                         + (f" Measured: {rates}." if rates else "") + cut)
        held = ", ".join(f"{SPECS[k].title} {_min(v)}" for k, v in self.estimates.items())
        lines.append(f"Estimates held for the steps that cannot be sized: {held}.")
        return "\n".join(lines)

    def summary_text(self) -> str:
        parts = []
        for key in [s.key for s in PLAN if s.key in self.steps]:
            st = self.steps[key]
            took = _min(st.elapsed()) if st.finished else "running"
            parts.append(f"{st.title} {took} of {_min(st.allowance)}"
                         + (f" (cut: {'; '.join(st.cuts)})" if st.cuts else ""))
        return (f"{self.minutes:g}-minute budget, {_min(self.clock() - self.started)} used so far. "
                + ". ".join(parts) + ". Rates and details: NOTES.md [time budget].")

    def save(self, write_logs: bool = False) -> None:
        if self.paths is None:
            return
        from atomic import atomic_write_json
        from runlog import log_summary, record_note

        atomic_write_json(self.paths.experiments / STATE_FILE, self.to_dict())
        if write_logs:
            record_note(self.paths, NOTES_TOPIC, self.notes_text())
            log_summary(self.paths, SUMMARY_STEP, self.summary_text())


# --- the run's budget per PROJECT_ROOT ---------------------------------------------------------

_RUNS: dict[str, Budget] = {}


def minutes_for(cfg) -> float:
    from config import resolve_time_budget

    return resolve_time_budget(cfg.time_budget_minutes, cfg.run_mode)


def start(cfg, paths) -> Budget:
    """Start the run's clock now (setup_run.init); a later Run-all starts it again."""
    b = Budget(minutes_for(cfg), cfg.run_mode, paths, float(cfg.budget_margin_fraction))
    _RUNS[str(paths.root)] = b
    return b


def current(cfg, paths) -> Budget:
    """The run's Budget: the one started by setup_run.init, else one starting now (a module called
    on its own: tests, benchmarks). A changed cfg.time_budget_minutes keeps the start time."""
    b = _RUNS.get(str(paths.root))
    minutes = minutes_for(cfg)
    if b is None:
        return start(cfg, paths)
    if b.minutes != minutes:
        nb = Budget(minutes, cfg.run_mode, paths, float(cfg.budget_margin_fraction), started=b.started)
        nb.steps, nb.estimates = b.steps, b.estimates
        for st in nb.steps.values():
            st.owner = nb
        _RUNS[str(paths.root)] = b = nb
    return b
