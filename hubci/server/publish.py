"""``hub serve --registry``: a build's images go to a real registry under every tag it got.

For each platform the builder pushes the image through the Engine as
``HOST/jinahub/<id>:<build id>-<os>-<arch>``: a name of this build alone, so two builds never
push over each other, and what ``getPackage`` answers for a ``preferPlatform`` (no push can move
it). The Engine uploads the layers the registry lacks. Then, with the registry's API and tokens
the Hub mints for itself, each tag ``HOST/jinahub/<id>:<tag>`` gets the platform's manifest (one
platform) or one image index over all of them (several), so ``docker pull HOST/jinahub/<id>:<tag>``
picks the puller's platform. Tags move only once every platform's image is in the registry.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hubci.image.builder import platform_slug
from hubci.image.registry import (
    PlatformManifest,
    RegistryClient,
    RegistryError,
    RegistryTarget,
    index_of,
)
from hubci.secret import Secret
from hubci.server.builders import Builder, PushJob
from hubci.server.registry_tokens import Caller, TokenIssuer

log = logging.getLogger("hubci.server")

#: the user name of the Hub's own pushes (any name works; the password tells it is the Hub)
HUB_USER = "hubci-hub"


class PublishFailed(Exception):
    """One line: what could not be put into the registry."""


@dataclass(frozen=True)
class Published:
    references: list[str]  # HOST/REPO:TAG per tag, in the build's tag order
    platforms: dict[str, str]  # platform -> HOST/REPO:<build id>-<slug>, that platform's image


class Publisher:
    def __init__(self, target: RegistryTarget, issuer: TokenIssuer, builder: Builder) -> None:
        self.target = target
        self.issuer = issuer
        self.builder = builder
        self._password = Secret(issuer.hub_password)  # masked in everything the Hub writes
        self._warned_open = False

    def _token(self, service: str, repository: str, actions: Sequence[str]) -> Secret:
        access = [{"type": "repository", "name": repository, "actions": list(actions)}]
        return Secret(self.issuer.issue(Caller(hub=True), service, access))

    def publish(
        self,
        repository: str,
        build_id: str,
        tags: Sequence[str],
        image_ids: Mapping[str, str],
        console: Callable[[str], None],
        cancel: threading.Event | None = None,
    ) -> Published:
        """Push ``image_ids`` (platform -> Engine image id) as ``repository`` with ``tags``."""
        if not tags or not image_ids:
            msg = "the build made no image to push"
            raise PublishFailed(msg)
        client = RegistryClient(self.target, self._token)
        try:
            manifests: list[PlatformManifest] = []
            own: dict[str, str] = {}
            for platform, image_id in image_ids.items():
                name = f"{build_id}-{platform_slug(platform)}"
                reference = self.target.reference(repository, name)
                job = PushJob(image_id, reference, HUB_USER, self._password)
                if cancel is not None:
                    job = dataclasses.replace(job, cancel=cancel)
                failed = self.builder.push(job, console)
                if failed is not None:
                    raise PublishFailed(failed)
                manifests.append(
                    PlatformManifest(platform, client.image(repository, name, platform))
                )
                own[platform] = reference
            if len(manifests) == 1:
                media_type, body = manifests[0].manifest.media_type, manifests[0].manifest.body
            else:
                media_type, body = index_of(manifests)
            for tag in tags:
                digest = client.put(repository, tag, media_type, body)
                console(f"{self.target.reference(repository, tag)}: digest {digest}")
            self._warn_if_open(client)
        except RegistryError as exc:
            raise PublishFailed(exc.message) from None
        finally:
            client.close()
        return Published(
            references=[self.target.reference(repository, tag) for tag in tags],
            platforms=own,
        )

    def _warn_if_open(self, client: RegistryClient) -> None:
        if client.challenged or self._warned_open:
            return
        self._warned_open = True
        log.warning(
            "the registry %s took a push without asking for a token: anyone who reaches it can "
            "pull, push over and delete every image, private ones included; configure its "
            "auth: token to trust this Hub (docs/self-hosting.md)",
            self.target.host,
        )
