"""Hub tags from git refs, in docker/metadata-action's rule language (docs/tags.md).

``resolve_context`` does the I/O once (GitHub Actions environment and payload, or the local git
repository); ``compute_tags`` is pure. Push uses ``tag_rule_options`` + ``TagOptions``.
"""

from __future__ import annotations

from hubci.tags.context import resolve_context
from hubci.tags.event import EventContext
from hubci.tags.options import TagOptions, tag_rule_options
from hubci.tags.plan import TagPlan, compute_tags, parse_rule_set, plan_tags
from hubci.tags.rules import TagRuleError

__all__ = [
    "EventContext",
    "TagOptions",
    "TagPlan",
    "TagRuleError",
    "compute_tags",
    "parse_rule_set",
    "plan_tags",
    "resolve_context",
    "tag_rule_options",
]
