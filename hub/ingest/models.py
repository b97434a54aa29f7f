"""Serving tables the hot path writes (migration 0004_hubml_hotpath): no Spark in between.

Times are the data's own (`reading_at`, the gateway's or the simulator's clock) beside the
hub's receipt time, so freshness can be judged on the data's clock (accelerated or replayed
time reads right) and the hot path's delay on the hub's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, org_id_column
from shared.schema import SENSOR_FIELDS

TS = DateTime(timezone=True)


class CompressorLatest(OrgScoped, Base):
    """Each compressor's newest reading as it landed (values NULL where quality was not OK)."""

    __tablename__ = "compressor_latest"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(
                ["org_id", "compressor_id"],
                ["compressors.org_id", "compressors.id"],
                ondelete="CASCADE",
            ),
        )

    org_id: Mapped[str] = org_id_column()
    compressor_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    reading_at: Mapped[datetime] = mapped_column(TS)
    seq: Mapped[int] = mapped_column(BigInteger)
    operating_state: Mapped[str] = mapped_column(String(32))
    for _sensor in SENSOR_FIELDS:
        locals()[_sensor] = mapped_column(Float, nullable=True)
    del _sensor
    batch_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(TS)


class StationLatest(OrgScoped, Base):
    """Each station's newest landed data: freshness on the data's clock, delay on the hub's."""

    __tablename__ = "station_latest"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(
                ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE"
            ),
        )

    org_id: Mapped[str] = org_id_column()
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    last_reading_at: Mapped[datetime] = mapped_column(TS)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_batch_id: Mapped[str] = mapped_column(String(128))
    compressors_in_batch: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(TS)
    #: When the hot path wrote this row (received_at -> written_at: the hot path's own delay).
    written_at: Mapped[datetime] = mapped_column(TS)
