"""Backfills, the pure part: the job document, batch planning, throttle decisions, checksums.

The runner (``rheostat.runner``) does the I/O: it reads and writes the databases, measures
time and load, and asks these functions what to do next.
"""

from rheostat.backfill.checksum import (
    ChunkDifference,
    ChunkSum,
    VerifyReport,
    compare_chunks,
    row_hashes,
    row_text,
    sum_rows,
)
from rheostat.backfill.document import job_from_dict, job_from_text, job_to_dict, load_job
from rheostat.backfill.job import (
    BackfillJob,
    BatchSettings,
    Endpoint,
    Probe,
    ThrottleSettings,
    job_essence,
    job_fingerprint,
)
from rheostat.backfill.planning import (
    BatchTiming,
    Progress,
    Strategy,
    ThrottleDecision,
    ThrottleReading,
    choose_strategy,
    decide_throttle,
    decode_key,
    encode_key,
    next_batch_size,
    nice_wait,
    progress,
    range_split,
    same_database,
)
from rheostat.inputs import expand_url

__all__ = [
    "BackfillJob",
    "BatchSettings",
    "BatchTiming",
    "ChunkDifference",
    "ChunkSum",
    "Endpoint",
    "Probe",
    "Progress",
    "Strategy",
    "ThrottleDecision",
    "ThrottleReading",
    "ThrottleSettings",
    "VerifyReport",
    "choose_strategy",
    "compare_chunks",
    "decide_throttle",
    "decode_key",
    "encode_key",
    "expand_url",
    "job_essence",
    "job_fingerprint",
    "job_from_dict",
    "job_from_text",
    "job_to_dict",
    "load_job",
    "next_batch_size",
    "nice_wait",
    "progress",
    "range_split",
    "row_hashes",
    "row_text",
    "same_database",
    "sum_rows",
]
