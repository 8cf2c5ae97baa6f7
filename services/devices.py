"""Use cases of devices: add one, change it, and its wear from the sessions that used it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from domain.devices import (
    WearStatus,
    validate_first_use,
    validate_needle_length,
    wear_status,
)
from storage import records
from storage.models import Device, User, utcnow


@dataclass(frozen=True)
class DeviceWear:
    """A device with its wear today."""

    device: Device
    wear: WearStatus


def device_wear(session: Session, devices: Sequence[Device], on: date,
                zone: ZoneInfo) -> dict[int, WearStatus]:
    """Wear of each device on the day `on`, from the sessions that used it."""
    usage = records.device_usage(session, [device.id for device in devices])
    wear = {}
    for device in devices:
        used = usage[device.id]
        first_use = device.first_used_on or (
            used.first_performed_at.astimezone(zone).date() if used.first_performed_at else None
        )
        wear[device.id] = wear_status(device.kind, used.uses, first_use, on)
    return wear


def with_wear(session: Session, devices: Sequence[Device], owner: User) -> list[DeviceWear]:
    """The devices with their wear today, in the owner's zone."""
    zone = ZoneInfo(owner.timezone)
    wear = device_wear(session, devices, datetime.now(zone).date(), zone)
    return [DeviceWear(device, wear[device.id]) for device in devices]


def add_device(session: Session, owner: User, data: dict) -> Device:
    validate_needle_length(data["needle_length_mm"])
    validate_first_use(data.get("first_used_on"), _today(owner))
    device = Device(patient_id=owner.id, **data)
    session.add(device)
    session.flush()
    return device


def change_device(session: Session, device: Device, owner: User, data: dict) -> None:
    """Relabel a device, set its first use, or retire it."""
    validate_first_use(data.get("first_used_on"), _today(owner))
    if "retired" in data and data["retired"] != device.retired:
        device.retired_at = utcnow() if data["retired"] else None
    for name, value in data.items():
        setattr(device, name, value)
    session.flush()


def _today(owner: User) -> date:
    return datetime.now(ZoneInfo(owner.timezone)).date()
