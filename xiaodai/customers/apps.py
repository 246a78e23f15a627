from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "xiaodai.customers"
    label = "customers"
    verbose_name = "Customers"
