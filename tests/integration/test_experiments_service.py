"""Experiment services on SQLite and PostgreSQL: life cycle, traffic, dedup, replay, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rheostat import service
from rheostat.clock import FixedClock
from rheostat.errors import Conflict, NotFound, ValidationError
from rheostat.experiments import (
    Arm,
    Experiment,
    MetricKind,
    MetricSpec,
    assign,
    assignment_document,
)
from rheostat.flags import FlagSet
from rheostat.service import (
    AuditAction,
    Conversion,
    ExperimentChanges,
    Exposure,
    MetricEvent,
    SqlStore,
)
from rheostat.store.tables import ExperimentWindowRow

ENV = "production"
UNITS = [f"user-{number}" for number in range(1200)]


def _experiment(key: str = "ner-models", coverage: float = 100) -> Experiment:
    return Experiment(
        key=key,
        arms=(Arm(name="control", weight_percent=50), Arm(name="treatment", weight_percent=50)),
        metrics=(
            MetricSpec(name="latency", higher_is_better=False),
            MetricSpec(name="converted", kind=MetricKind.PROPORTION),
        ),
        coverage_percent=coverage,
    )


def _running(store: SqlStore, key: str = "ner-models", coverage: float = 100) -> None:
    service.transact(store, service.create_environment, ENV, change=service.Change(actor="test"))
    service.transact(
        store,
        service.create_experiment,
        ENV,
        _experiment(key, coverage),
        change=service.Change(actor="test"),
    )
    service.transact(store, service.start_experiment, ENV, key, change=service.Change(actor="test"))


def _arms_of(store: SqlStore, units: list[str], commit: str = "abc123") -> dict[str, str | None]:
    exposures = [Exposure(unit=unit, commit_sha=commit) for unit in units]
    receipt = service.transact(store, service.record_exposures, ENV, "ner-models", exposures)
    return {assignment.unit: assignment.arm for assignment in receipt.assignments}


def _latencies(arms: dict[str, str | None], *, prefix: str) -> list[MetricEvent]:
    return [
        MetricEvent(
            arm=str(arm),
            metric="latency",
            value=300.0 - (25 if arm == "treatment" else 0) + index % 7,
            event_id=f"{prefix}-{unit}",
        )
        for index, (unit, arm) in enumerate(sorted(arms.items()))
    ]


def _window_rows(store: SqlStore) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(ExperimentWindowRow)) or 0)


def test_a_retried_batch_changes_nothing(store: SqlStore, clock: FixedClock) -> None:
    # Given a running experiment with exposures, metric events (with ids) and conversions
    _running(store)
    arms = _arms_of(store, UNITS)
    events = _latencies(arms, prefix="batch-1")
    conversions = [Conversion(unit=unit, metric="converted") for unit in UNITS[::5]]
    first = service.transact(store, service.record_metrics, ENV, "ner-models", events)
    converted = service.transact(store, service.record_conversions, ENV, "ner-models", conversions)
    clock.advance(timedelta(minutes=1))
    before = service.transact(store, service.experiment_results, ENV, "ner-models").document

    # When every batch is sent again, a minute later (a retry after a lost answer)
    exposed_again = service.transact(
        store, service.record_exposures, ENV, "ner-models", [Exposure(unit=unit) for unit in UNITS]
    )
    again = service.transact(store, service.record_metrics, ENV, "ner-models", events)
    converted_again = service.transact(
        store, service.record_conversions, ENV, "ner-models", conversions
    )
    clock.advance(timedelta(minutes=1))
    after = service.transact(store, service.experiment_results, ENV, "ner-models").document

    # Then the retries are all duplicates and the results are unchanged
    assert (first.recorded, converted.recorded) == (len(UNITS), len(conversions))
    assert (exposed_again.recorded, exposed_again.duplicates) == (0, len(UNITS))
    assert (again.recorded, again.duplicates) == (0, len(events))
    assert (converted_again.recorded, converted_again.duplicates) == (0, len(conversions))
    assert {**after, "at": None} == {**before, "at": None}


def test_many_events_cost_one_row_per_arm_metric_and_window(
    store: SqlStore, clock: FixedClock
) -> None:
    # Given a running experiment
    _running(store)
    arms = _arms_of(store, UNITS)

    # When 3 batches of 1,200 events arrive in one minute and a pre-aggregated summary in the next
    for batch in range(3):
        service.transact(
            store, service.record_metrics, ENV, "ner-models", _latencies(arms, prefix=f"b{batch}")
        )
    clock.advance(timedelta(minutes=1))
    summary = MetricEvent(arm="control", metric="latency", n=1000, sum=3e5, sum_squares=9.1e7)
    service.transact(store, service.record_metrics, ENV, "ner-models", [summary])
    clock.advance(timedelta(minutes=1))
    results = service.transact(store, service.experiment_results, ENV, "ner-models").results

    # Then 2 arms x 1 metric in the first window and 1 row in the second were written
    assert _window_rows(store) == 3
    control = next(arm for arm in results.arms if arm.name == "control")
    assert control.metrics["latency"].n == 3 * list(arms.values()).count("control") + 1000


def test_results_replay_exactly_from_stored_windows(store: SqlStore, clock: FixedClock) -> None:
    # Given results computed and stored after some traffic
    _running(store)
    arms = _arms_of(store, UNITS[:600])
    service.transact(
        store, service.record_metrics, ENV, "ner-models", _latencies(arms, prefix="early")
    )
    clock.advance(timedelta(minutes=2))
    stored = service.transact(store, service.experiment_results, ENV, "ner-models")

    # When more traffic arrives, and the results are replayed at the stored moment
    clock.advance(timedelta(seconds=30))
    later_arms = _arms_of(store, UNITS[600:])
    service.transact(
        store, service.record_metrics, ENV, "ner-models", _latencies(later_arms, prefix="late")
    )
    clock.advance(timedelta(minutes=2))
    replay = service.transact(
        store, service.experiment_results, ENV, "ner-models", at=stored.results.at
    )
    now = service.transact(store, service.experiment_results, ENV, "ner-models")

    # Then the replay is the stored document exactly, while "now" sees the new traffic
    assert replay.replayed
    assert replay.matches_stored is True
    assert replay.stored_id == stored.stored_id
    assert replay.document == stored.document
    assert sum(arm.units for arm in now.results.arms) == len(UNITS)
    assert sum(arm.units for arm in replay.results.arms) == 600
    history = service.transact(store, service.list_experiment_results, ENV, "ner-models")
    assert [entry.id for entry in history] == [now.stored_id, stored.stored_id]


def test_raising_coverage_keeps_every_assigned_unit_in_its_arm(store: SqlStore) -> None:
    # Given units exposed at 20 % coverage
    _running(store, coverage=20)
    narrow = _arms_of(store, UNITS)

    # When coverage rises to 60 % and the same units come back
    service.transact(
        store,
        service.update_experiment,
        ENV,
        "ner-models",
        ExperimentChanges(coverage_percent=60),
        change=service.Change(actor="test"),
    )
    wide = _arms_of(store, UNITS)

    # Then nobody moved, and more units are in
    included = {unit: arm for unit, arm in narrow.items() if arm is not None}
    assert 0.15 < len(included) / len(UNITS) < 0.25
    assert all(wide[unit] == arm for unit, arm in included.items())
    assert sum(arm is not None for arm in wide.values()) > 2 * len(included)


def test_arm_weights_change_only_while_a_draft(store: SqlStore) -> None:
    # Given a draft experiment
    service.transact(store, service.create_environment, ENV, change=service.Change(actor="test"))
    service.transact(
        store, service.create_experiment, ENV, _experiment(), change=service.Change(actor="test")
    )
    reweighted = (Arm(name="control", weight_percent=40), Arm(name="treatment", weight_percent=60))

    # When its weights change as a draft, then once it runs
    draft = service.transact(
        store,
        service.update_experiment,
        ENV,
        "ner-models",
        ExperimentChanges(arms=reweighted),
        change=service.Change(actor="test"),
    )
    service.transact(
        store, service.start_experiment, ENV, "ner-models", change=service.Change(actor="test")
    )
    with pytest.raises(ValidationError, match="would move assigned units") as refused:
        service.transact(
            store,
            service.update_experiment,
            ENV,
            "ner-models",
            ExperimentChanges(arms=_experiment().arms),
            change=service.Change(actor="test"),
        )

    # Then the draft took them and the running one refused, naming the field
    assert [arm.weight_percent for arm in draft.experiment.arms] == [40, 60]
    assert refused.value.details["field"] == "arms"


def test_only_a_running_experiment_records(store: SqlStore) -> None:
    # Given a draft and a stopped experiment
    service.transact(store, service.create_environment, ENV, change=service.Change(actor="test"))
    service.transact(
        store,
        service.create_experiment,
        ENV,
        _experiment("draft-one"),
        change=service.Change(actor="test"),
    )
    service.transact(
        store,
        service.create_experiment,
        ENV,
        _experiment("stopped-one"),
        change=service.Change(actor="test"),
    )
    service.transact(
        store, service.start_experiment, ENV, "stopped-one", change=service.Change(actor="test")
    )
    service.transact(
        store,
        service.stop_experiment,
        ENV,
        "stopped-one",
        change=service.Change(actor="test", reason="done"),
    )

    # When traffic is recorded into them / Then it is refused, saying why
    with pytest.raises(Conflict, match="draft, not running: start it first"):
        service.transact(store, service.record_exposures, ENV, "draft-one", [Exposure(unit="u1")])
    with pytest.raises(Conflict, match="stopped, not running"):
        service.transact(
            store,
            service.record_metrics,
            ENV,
            "stopped-one",
            [MetricEvent(arm="control", metric="latency", value=1)],
        )
    with pytest.raises(Conflict, match="cannot be started again"):
        service.transact(
            store, service.start_experiment, ENV, "stopped-one", change=service.Change(actor="test")
        )
    # and a stopped experiment serves its control arm without recording
    assert service.transact(store, service.assign_unit, ENV, "stopped-one", "u1").arm == "control"


def test_bad_traffic_is_refused_naming_the_item(store: SqlStore) -> None:
    # Given a running experiment with one exposed unit
    _running(store)
    arm = _arms_of(store, ["user-1"])["user-1"]
    other = "control" if arm == "treatment" else "treatment"
    good = MetricEvent(arm="control", metric="latency", value=1.0)
    cases = [
        (lambda: service.transact(store, service.record_exposures, ENV, "ner-models", [
            Exposure(unit="user-1", arm=other)]), "exposures[0].arm"),
        (lambda: service.transact(store, service.record_metrics, ENV, "ner-models", [
            good, MetricEvent(arm="nope", metric="latency", value=1.0)]), "events[1].arm"),
        (lambda: service.transact(store, service.record_metrics, ENV, "ner-models", [
            MetricEvent(arm="control", metric="latncy", value=1.0)]), "events[0].metric"),
        (lambda: service.transact(store, service.record_metrics, ENV, "ner-models", [
            MetricEvent(arm="control", metric="converted", value=1.0)]), "events[0].metric"),
        (lambda: service.transact(store, service.record_metrics, ENV, "ner-models", [
            MetricEvent(arm="control", metric="latency", value=float("nan"))]),
         "events[0].value"),
        (lambda: service.transact(store, service.record_metrics, ENV, "ner-models", [
            MetricEvent(arm="control", metric="latency", n=2, sum=10.0, sum_squares=1.0)]),
         "events[0].sum_squares"),
        (lambda: service.transact(store, service.record_conversions, ENV, "ner-models", [
            Conversion(unit="user-1", metric="converted"),
            Conversion(unit="never-seen", metric="converted")]), "conversions[1].unit"),
        (lambda: service.transact(store, service.record_conversions, ENV, "ner-models", [
            Conversion(unit="user-1", metric="latency")]), "conversions[0].metric"),
    ]  # fmt: skip

    # When each is recorded / Then each is refused with the field, and nothing was written
    for record, field in cases:
        with pytest.raises(ValidationError) as refused:
            record()
        assert refused.value.details["field"] == field, refused.value.message
    assert service.transact(store, service.record_metrics, ENV, "ner-models", [good]).recorded == 1


def test_arms_on_different_commits_make_the_result_invalid(
    store: SqlStore, clock: FixedClock
) -> None:
    # Given control units served by one commit and treatment units by another
    _running(store)
    flags = FlagSet.from_dict(assignment_document(_experiment()))
    planned = {unit: assign(flags, _experiment(), unit) for unit in UNITS[:400]}
    for arm, commit in (("control", "aaa111"), ("treatment", "bbb222")):
        units = [unit for unit, planned_arm in planned.items() if planned_arm == arm]
        _arms_of(store, units, commit=commit)
    service.transact(
        store, service.record_metrics, ENV, "ner-models", _latencies(planned, prefix="x")
    )
    clock.advance(timedelta(minutes=1))

    # When the results are computed
    report = service.transact(store, service.experiment_results, ENV, "ner-models")

    # Then they are not valid, and never significant
    assert "arms_on_different_commits" in report.results.invalid_reasons
    assert not report.results.significant
    assert report.document["valid"] is False


def test_life_cycle_is_audited_and_unknown_experiments_are_not_found(store: SqlStore) -> None:
    # Given an experiment created, started and stopped
    _running(store)
    service.transact(
        store,
        service.stop_experiment,
        ENV,
        "ner-models",
        change=service.Change(actor="alice", reason="enough data"),
    )

    # When the audit log is read, and an unknown experiment is asked for
    events = service.transact(store, service.list_audit_events, subject="experiment:ner-models")
    with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
        service.transact(store, service.experiment_results, ENV, "nope")

    # Then each step is recorded, newest first, with who and why
    assert [event.action for event in events] == [
        AuditAction.EXPERIMENT_STOPPED,
        AuditAction.EXPERIMENT_STARTED,
        AuditAction.EXPERIMENT_CREATED,
    ]
    assert (events[0].actor, events[0].reason) == ("alice", "enough data")
    assert events[0].after is not None
    assert events[0].after["status"] == "stopped"


def test_a_replay_must_name_a_past_moment_with_a_zone(store: SqlStore, clock: FixedClock) -> None:
    # Given a running experiment
    _running(store)

    # When results are asked for the future, or for a time without a zone / Then refused
    with pytest.raises(ValidationError, match="in the future"):
        service.transact(
            store,
            service.experiment_results,
            ENV,
            "ner-models",
            at=clock.now() + timedelta(minutes=1),
        )
    with pytest.raises(ValidationError, match="timezone-aware"):
        service.transact(
            store,
            service.experiment_results,
            ENV,
            "ner-models",
            at=clock.now().replace(tzinfo=None),
        )
