"""Accounts: the custom user model (email sign-in, public UID), roles and agent profiles.

Django requires a custom user model in an app that exists before the first
migration, which is why this app sits beside the four domain apps.
"""

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from accounts.caching import connect_signals

        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="accounts.roles_sync")
        connect_signals()


def _sync_roles_after_migrate(sender, using="default", **kwargs) -> None:
    # post_migrate fires once per app and auth creates each app's permissions in
    # its own turn: sync after the last app so every permission exists.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender.name != with_models[-1].name:
        return
    from accounts.services import roles_sync

    roles_sync(using=using)
