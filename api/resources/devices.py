"""Devices: the patient's rollers, pens and stamps, with wear from the sessions that used them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask.views import MethodView
from api.blueprint import Blueprint
from sqlalchemy import select

from services import courses as tracking
from api.access import device_or_404
from api.auth import PATIENT, current_user, login_required
from api.database import db
from api.idempotency import idempotent_create
from api.paging import id_page
from domain.devices import validate_first_use, validate_needle_length
from schemas.common import PageArgsSchema
from schemas.devices import DeviceCreateSchema, DevicePageSchema, DeviceSchema, DeviceUpdateSchema
from storage.models import Device

blp = Blueprint("devices", __name__, url_prefix="/api/v1",
                description="Microneedling devices and their wear status.")


def _today():
    return datetime.now(ZoneInfo(current_user().timezone)).date()


def with_wear(devices: list[Device]) -> list[dict]:
    zone = ZoneInfo(current_user().timezone)
    wear = tracking.device_wear(db(), devices, datetime.now(zone).date(), zone)
    return [{**{name: getattr(device, name) for name in _STORED_FIELDS},
             "uses": wear[device.id].uses, "max_uses": wear[device.id].max_uses,
             "expires_on": wear[device.id].expires_on,
             "warnings": list(wear[device.id].warnings)}
            for device in devices]


_STORED_FIELDS = ("id", "kind", "needle_length_mm", "label", "material", "first_used_on",
                  "retired", "created_at")


@blp.route("/devices")
class DeviceViews(MethodView):
    @login_required(PATIENT)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, DevicePageSchema)
    def get(self, args):
        """The caller's devices, newest first, with wear"""
        rows, next_cursor = id_page(
            select(Device).where(Device.patient_id == current_user().id), Device.id, args)
        return {"items": with_wear([device for device, in rows]), "next_cursor": next_cursor}

    @login_required(PATIENT)
    @idempotent_create
    @blp.arguments(DeviceCreateSchema)
    @blp.response(201, DeviceSchema)
    def post(self, data):
        """Add a roller, pen or stamp"""
        validate_needle_length(data["needle_length_mm"])
        validate_first_use(data.get("first_used_on"), _today())
        device = Device(patient_id=current_user().id, **data)
        db().add(device)
        db().flush()
        return with_wear([device])[0]


@blp.route("/devices/<int:device_id>")
class DeviceByIdViews(MethodView):
    @login_required(PATIENT)
    @blp.etag
    @blp.response(200, DeviceSchema)
    def get(self, device_id):
        """One device with its wear status"""
        return with_wear([device_or_404(device_id)])[0]

    @login_required(PATIENT)
    @blp.arguments(DeviceUpdateSchema)
    @blp.response(200, DeviceSchema)
    def patch(self, data, device_id):
        """Relabel a device, set its first use, or retire it"""
        device = device_or_404(device_id)
        validate_first_use(data.get("first_used_on"), _today())
        for name, value in data.items():
            setattr(device, name, value)
        db().commit()
        return with_wear([device])[0]
