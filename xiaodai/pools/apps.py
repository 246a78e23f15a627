from django.apps import AppConfig


class PoolsConfig(AppConfig):
    name = "xiaodai.pools"
    label = "pools"
    verbose_name = "Resource pools"
