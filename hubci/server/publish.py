"""``hub serve --registry``: a build's images go to a real registry under every tag it got.

For each platform the builder pushes the image through the Engine as
``HOST/jinahub/<id>:<tag>-<os>-<arch>`` (the Engine uploads the layers the registry lacks).
The rest is done with the registry's API, with tokens the Hub mints for itself: every other tag
gets the same manifest, and each plain tag ``HOST/jinahub/<id>:<tag>`` gets the platform's
manifest (one platform) or one image index over all of them (several), so
``docker pull HOST/jinahub/<id>:<tag>`` picks the puller's platform.
"""

from __future__ import annotations

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

#: the user name of the Hub's own pushes (any name works; the password tells it is the Hub)
HUB_USER = "hubci-hub"


class PublishFailed(Exception):
    """One line: what could not be put into the registry."""


@dataclass(frozen=True)
class Published:
    references: list[str]  # HOST/REPO:TAG per tag, in the build's tag order
    platforms: dict[str, str]  # platform -> its slug (HOST/REPO:TAG-SLUG is that image)
    host: str


class Publisher:
    def __init__(self, target: RegistryTarget, issuer: TokenIssuer, builder: Builder) -> None:
        self.target = target
        self.issuer = issuer
        self.builder = builder
        self._password = Secret(issuer.hub_password)  # masked in everything the Hub writes

    def _token(self, service: str, repository: str, actions: Sequence[str]) -> Secret:
        access = [{"type": "repository", "name": repository, "actions": list(actions)}]
        return Secret(self.issuer.issue(Caller(hub=True), service, access))

    def publish(
        self,
        repository: str,
        tags: Sequence[str],
        image_ids: Mapping[str, str],
        log: Callable[[str], None],
    ) -> Published:
        """Push ``image_ids`` (platform -> Engine image id) as ``repository`` with ``tags``."""
        if not tags or not image_ids:
            msg = "the build made no image to push"
            raise PublishFailed(msg)
        first = tags[0]
        client = RegistryClient(self.target, self._token)
        try:
            manifests: list[PlatformManifest] = []
            slugs: dict[str, str] = {}
            for platform, image_id in image_ids.items():
                slug = platform_slug(platform)
                slugs[platform] = slug
                reference = self.target.reference(repository, f"{first}-{slug}")
                job = PushJob(image_id, reference, HUB_USER, self._password)
                failed = self.builder.push(job, log)
                if failed is not None:
                    raise PublishFailed(failed)
                found = client.manifest(repository, f"{first}-{slug}")
                manifests.append(PlatformManifest(platform, found))
            for tag in tags:
                for item in manifests:
                    if tag != first:
                        found = item.manifest
                        client.put(
                            repository, f"{tag}-{slugs[item.platform]}", found.media_type,
                            found.body,
                        )  # fmt: skip
                if len(manifests) == 1:
                    digest = client.put(
                        repository,
                        tag,
                        manifests[0].manifest.media_type,
                        manifests[0].manifest.body,
                    )
                else:
                    digest = client.put(repository, tag, *index_of(manifests))
                log(f"{self.target.reference(repository, tag)}: digest {digest}")
        except RegistryError as exc:
            raise PublishFailed(exc.message) from None
        finally:
            client.close()
        return Published(
            references=[self.target.reference(repository, tag) for tag in tags],
            platforms=slugs,
            host=self.target.host,
        )
