"""Every write to the registers: `<entity>_<action>(*, actor, …)`, one transaction each, permission
and validation first. Re-exported here so callers write `services.person_move_out(...)`."""

from .address import address_create, building_create, house_create, house_set_rental
from .care import group_add, group_end, group_update, visit_record, visit_rule_set
from .entities import (
    ENTITIES,
    entity_create,
    entity_update,
    governance_create,
    line_create,
    organisation_create,
    place_create,
    school_create,
    team_create,
)
from .links import case_link_subject, case_lookup, case_unlink_subject
from .people import (
    find_by_id_number,
    household_register,
    person_archive,
    person_cancel,
    person_move_in,
    person_move_out,
    person_register,
    person_reveal,
    person_update,
)
from .people_batch import people_import

__all__ = [
    "ENTITIES",
    "address_create",
    "building_create",
    "case_link_subject",
    "case_lookup",
    "case_unlink_subject",
    "entity_create",
    "entity_update",
    "find_by_id_number",
    "governance_create",
    "group_add",
    "group_end",
    "group_update",
    "house_create",
    "house_set_rental",
    "household_register",
    "line_create",
    "organisation_create",
    "people_import",
    "person_archive",
    "person_cancel",
    "person_move_in",
    "person_move_out",
    "person_register",
    "person_reveal",
    "person_update",
    "place_create",
    "school_create",
    "team_create",
    "visit_record",
    "visit_rule_set",
]
