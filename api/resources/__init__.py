"""The resources of the API, one blueprint (`blp`) per module, in the order the OpenAPI
document lists them."""

from __future__ import annotations

from api.resources import (
    access_log,
    accounts,
    calendar,
    clinicians,
    comparisons,
    courses,
    devices,
    exports,
    flags,
    health,
    notes,
    observations,
    photos,
    sessions,
    shares,
    uploads,
)

BLUEPRINTS = (accounts.blp, courses.blp, sessions.blp, flags.blp, devices.blp, photos.blp,
              comparisons.blp, uploads.blp, shares.blp, clinicians.blp, observations.blp,
              notes.blp, exports.blp, calendar.blp, access_log.blp, health.blp)
