from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CommonConfig(AppConfig):
    default = True
    name = "gridgov.common"
    label = "common"
    verbose_name = "通用"


class GridgovAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with gridgov's audited site as the default `admin.site`."""

    default = False
    default_site = "gridgov.common.admin_site.GridgovAdminSite"
