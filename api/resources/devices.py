"""Devices: the patient's rollers, pens and stamps, with wear from the sessions that used them."""

from __future__ import annotations

from dataclasses import replace

from flask.views import MethodView
from sqlalchemy import select

from api.access import device_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.paging import id_page
from domain.roles import PATIENT
from schemas.common import PageArgsSchema
from schemas.devices import (
    DeviceCreateSchema,
    DevicePageSchema,
    DeviceSchema,
    DeviceUpdateSchema,
)
from services import devices
from storage.models import Device

blp = Blueprint("devices", __name__, url_prefix="/api/v1",
                description="Microneedling devices and their wear status.")


@blp.route("/devices")
class DeviceViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, DevicePageSchema)
    def get(self, args):
        """The caller's devices, newest first, with wear"""
        page = id_page(select(Device).where(Device.patient_id == current_user().id), Device.id,
                       args)
        return replace(page, items=devices.with_wear(db(), page.items, current_user()))

    @blp.login_required(PATIENT)
    @blp.idempotent_create
    @blp.arguments(DeviceCreateSchema)
    @blp.response(201, DeviceSchema)
    def post(self, data):
        """Add a roller, pen or stamp"""
        device = devices.add_device(db(), current_user(), data)
        return devices.with_wear(db(), [device], current_user())[0]


@blp.route("/devices/<int:device_id>")
class DeviceByIdViews(MethodView):
    @blp.login_required(PATIENT)
    @blp.etag
    @blp.response(200, DeviceSchema)
    def get(self, device_id):
        """One device with its wear status"""
        return devices.with_wear(db(), [device_or_404(device_id)], current_user())[0]

    @blp.login_required(PATIENT)
    @blp.arguments(DeviceUpdateSchema)
    @blp.response(200, DeviceSchema)
    def patch(self, data, device_id):
        """Relabel a device, set its first use, or retire it"""
        device = device_or_404(device_id)
        devices.change_device(db(), device, current_user(), data)
        db().commit()
        return devices.with_wear(db(), [device], current_user())[0]
