"""Items set aside because they could not be read, stored or judged: kept with their reason,
shown to the person, and handed back to be tried again once a newer SkyTwin runs."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from skytwin_desktop import __version__
from skytwin_desktop.domain import Connector, SetAsideStage
from skytwin_desktop.signals import SetAside
from skytwin_desktop.store.models import SetAsideItem
from skytwin_desktop.text import storable


def set_aside(session: Session, user_id: int, items: Iterable[SetAside], stage: SetAsideStage) -> int:
    """Keep each item once (the same item again only updates its reason), in the caller's transaction."""
    count = 0
    for item in items:
        values = {"user_id": user_id, "connector_name": Connector(item.connector).value,
                  "item_id": storable(item.item_id)[:255], "stage": SetAsideStage(stage).value,
                  "subject": storable(item.subject)[:300], "sender": storable(item.sender)[:320],
                  "reason": storable(item.reason)[:500], "payload": item.payload, "app_version": __version__}
        statement = insert(SetAsideItem).values(**values)
        session.execute(statement.on_conflict_do_update(
            index_elements=[SetAsideItem.user_id, SetAsideItem.connector_name, SetAsideItem.item_id],
            set_={key: statement.excluded[key] for key in ("stage", "subject", "sender", "reason", "payload",
                                                           "app_version")}))
        count += 1
    return count


def due_for_retry(session: Session, user_id: int, stages: Iterable[SetAsideStage],
                  connector: Connector | None = None) -> list[SetAsideItem]:
    """Items set aside by another version of SkyTwin, at these stages: a newer one may handle them."""
    query = select(SetAsideItem).where(SetAsideItem.user_id == user_id, SetAsideItem.app_version != __version__,
                                       SetAsideItem.stage.in_([SetAsideStage(stage).value for stage in stages]))
    if connector is not None:
        query = query.where(SetAsideItem.connector_name == Connector(connector).value)
    return list(session.scalars(query.order_by(SetAsideItem.id)))


def take_for_retry(session: Session, user_id: int, stages: Iterable[SetAsideStage],
                   connector: Connector | None = None) -> list[SetAsideItem]:
    """`due_for_retry`, removed here for the caller to try again in the same transaction (what
    fails again is set aside again, by this version)."""
    rows = due_for_retry(session, user_id, stages, connector)
    forget(session, [row.id for row in rows])
    return rows


def forget(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(delete(SetAsideItem).where(SetAsideItem.id.in_(ids)))
