"""The recorder's tables as Tortoise models, and the schema version they make up."""

from __future__ import annotations

from typing import Final

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

__all__ = [
    "SCHEMA_VERSION",
    "EventData",
    "EventTypes",
    "Events",
    "RecorderRuns",
    "SchemaChanges",
    "StateAttributes",
    "States",
    "StatesMeta",
    "Statistics",
    "StatisticsMeta",
    "StatisticsRuns",
    "StatisticsShortTerm",
]

SCHEMA_VERSION: Final = 2
"""Raised whenever a table changes; `database.py` refuses a database newer than this and migrates older ones."""

# Home Assistant's layout (ha-protocols 4.2): timestamps are float epoch seconds, which index and compare the same
# on SQLite and PostgreSQL; `last_changed_ts` is NULL when it equals `last_updated_ts`. References between tables
# are plain indexed integers, not foreign keys: a foreign key check on every inserted row costs write speed and
# purge deletes in an order the recorder controls anyway.


class SchemaChanges(Model):
    change_id = fields.IntField(primary_key=True)
    schema_version = fields.IntField()
    changed_ts = fields.FloatField()

    class Meta:
        table = "schema_changes"


class RecorderRuns(Model):
    run_id = fields.IntField(primary_key=True)
    start_ts = fields.FloatField()
    end_ts = fields.FloatField(null=True)
    closed_incorrect = fields.BooleanField(default=False)

    class Meta:
        table = "recorder_runs"


class StatesMeta(Model):
    metadata_id = fields.IntField(primary_key=True)
    entity_id = fields.CharField(max_length=255, unique=True)

    class Meta:
        table = "states_meta"


class StateAttributes(Model):
    attributes_id = fields.BigIntField(primary_key=True)
    hash = fields.BigIntField(db_index=True)
    shared_attrs = fields.TextField()

    class Meta:
        table = "state_attributes"


class States(Model):
    state_id = fields.BigIntField(primary_key=True)
    metadata_id = fields.IntField()
    state = fields.CharField(max_length=255, null=True)
    attributes_id = fields.BigIntField(null=True)
    last_changed_ts = fields.FloatField(null=True)
    last_updated_ts = fields.FloatField()
    context_id = fields.CharField(max_length=26, null=True)
    context_user_id = fields.CharField(max_length=64, null=True)
    context_parent_id = fields.CharField(max_length=26, null=True)

    class Meta:
        table = "states"
        # The one index the state queries use (history, restore, purge). Each further index on this table costs
        # write speed: a batch of 500 entities touches a leaf page per entity in each. Schema version 2 dropped
        # those on last_updated_ts and attributes_id (SQLite wrote 1.5-2x the pages per commit with them); the
        # purge finds orphaned attribute rows by a primary-key scan instead. The index also carries the columns
        # history reads, so a day of one entity is read from a few adjacent index pages rather than one table
        # page per row (rows of many entities interleave in the table): ~10 % of write speed for 3x faster reads.
        # `state_id` right after the time orders rows written in the same instant (a fake clock) by insertion,
        # which is how "the newest row" is chosen.
        indexes = (
            Index(
                fields=("metadata_id", "last_updated_ts", "state_id", "last_changed_ts", "state", "attributes_id"),
                name="ix_states_history",
            ),
        )


class EventTypes(Model):
    event_type_id = fields.IntField(primary_key=True)
    event_type = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "event_types"


class EventData(Model):
    data_id = fields.BigIntField(primary_key=True)
    hash = fields.BigIntField(db_index=True)
    shared_data = fields.TextField()

    class Meta:
        table = "event_data"


class Events(Model):
    event_id = fields.BigIntField(primary_key=True)
    event_type_id = fields.IntField(db_index=True)
    data_id = fields.BigIntField(null=True, db_index=True)
    origin_idx = fields.SmallIntField()
    time_fired_ts = fields.FloatField(db_index=True)
    context_id = fields.CharField(max_length=26, null=True)
    context_user_id = fields.CharField(max_length=64, null=True)
    context_parent_id = fields.CharField(max_length=26, null=True)

    class Meta:
        table = "events"


class StatisticsMeta(Model):
    id = fields.IntField(primary_key=True)
    statistic_id = fields.CharField(max_length=255, unique=True)
    source = fields.CharField(max_length=32)
    unit_of_measurement = fields.CharField(max_length=64, null=True)
    has_mean = fields.BooleanField()
    has_sum = fields.BooleanField()
    name = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "statistics_meta"


class _StatisticsRow(Model):
    id = fields.BigIntField(primary_key=True)
    metadata_id = fields.IntField()
    created_ts = fields.FloatField()
    start_ts = fields.FloatField(db_index=True)
    mean = fields.FloatField(null=True)
    min = fields.FloatField(null=True)
    max = fields.FloatField(null=True)
    last_reset_ts = fields.FloatField(null=True)
    state = fields.FloatField(null=True)
    sum = fields.FloatField(null=True)

    class Meta:
        abstract = True


class StatisticsShortTerm(_StatisticsRow):
    """5-minute rows, purged with the states after `keep_days`."""

    class Meta:
        table = "statistics_short_term"
        unique_together = (("metadata_id", "start_ts"),)


class Statistics(_StatisticsRow):
    """Hourly rows made from the 5-minute ones, kept for `statistics_keep_days`."""

    class Meta:
        table = "statistics"
        unique_together = (("metadata_id", "start_ts"),)


class StatisticsRuns(Model):
    """The 5-minute periods already compiled, so a restart compiles exactly the ones it missed."""

    run_id = fields.IntField(primary_key=True)
    start_ts = fields.FloatField(unique=True)

    class Meta:
        table = "statistics_runs"
