from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    LOGIN = "auth.login", _("Login")
    LOGIN_FAILED = "auth.login_failed", _("Login failed")
    LOGOUT = "auth.logout", _("Logout")
    LOCKOUT = "auth.lockout", _("Account locked out")
    PERMISSION_DENIED = "auth.denied", _("Permission denied")
    CUSTOMER_VIEW = "customer.view", _("Customer viewed")
    CUSTOMER_SEARCH = "customer.search", _("Customer search")
    CUSTOMER_REVEAL = "customer.reveal", _("Personal data revealed")
    CUSTOMER_CHANGE = "customer.change", _("Customer changed")
    CONSENT_RECORD = "consent.record", _("Consent recorded")
    OPT_OUT = "consent.opt_out", _("Opt-out recorded")
    EXPORT = "data.export", _("Export")
    STAFF_CREATE = "staff.create", _("Staff account created")
    STAFF_ACTIVATE = "staff.activate", _("Staff account enabled")
    STAFF_DEACTIVATE = "staff.deactivate", _("Staff account disabled")
    API_TOKEN_CREATE = "api.token_create", _("API token issued")
    DEMO_LOAD = "data.demo_load", _("Demo branch loaded")
    IMPORT_QUEUE = "import.queue", _("Data drop queued")
    IMPORT_RUN = "import.run", _("Data drop loaded")
    IMPORT_ROLLBACK = "import.rollback", _("Data drop rolled back")
    FEED_SETTING = "import.feed_setting", _("Feed setting changed")
    AUDIT_VERIFY = "audit.verify", _("Audit chain verified")
    PIPELINE_QUEUE = "pipeline.queue", _("Pipeline run queued")
    PIPELINE_RUN = "pipeline.run", _("Pipeline run finished")
    POOL_RULE_CHANGE = "pools.rule_changed", _("Pool rule changed")
    MODEL_TRAIN = "scoring.model_trained", _("Model trained")
    MODEL_ACTIVATE = "scoring.model_activated", _("Model activated")
    MODEL_RETRAIN_QUEUE = "scoring.retrain_queued", _("Model retraining queued")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    DENIED = "denied", _("Denied")
