from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class TagKind(models.TextChoices):
    SEGMENT = "segment", _("Segment")
    CIRCLE = "circle", _("Circle")  # 圈层: 有车族, 有房族, 新市民 …


class ContactKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    LANDLINE = "landline", _("Landline")
    EMAIL = "email", _("Email")


class ConsentPurpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing contact")
    CREDIT_REPORT = "credit_report", _("Credit-report query authorisation")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    VISIT = "visit", _("Visit")
    WECHAT = "wechat", _("WeChat")


class ConsentSource(models.TextChoices):
    COUNTER = "counter", _("Counter")
    MOBILE_BANK = "mobile_bank", _("Mobile banking")
    PHONE = "phone", _("Phone")
    PAPER = "paper", _("Paper form")
    VISIT = "visit", _("Visit")
    WECHAT = "wechat", _("WeChat")
    IMPORT = "import", _("Data drop")


class CreditLineStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    EXPIRED = "expired", _("Expired")


class LoanKind(models.TextChoices):
    CONSUMER = "consumer", _("Consumer loan")
    MORTGAGE = "mortgage", _("Mortgage")
    BUSINESS = "business", _("Business loan")


class LoanStatus(models.TextChoices):
    NORMAL = "normal", _("Normal")
    OVERDUE = "overdue", _("Overdue")
    SETTLED = "settled", _("Settled")


class CardTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")
    DIAMOND = "diamond", _("Diamond")


class DepositKind(models.TextChoices):
    DEMAND = "demand", _("Demand deposit")
    TIME = "time", _("Time deposit")
    WEALTH = "wealth", _("Wealth product")
    FUND = "fund", _("Fund")
    INSURANCE = "insurance", _("Insurance")


class ApplicationStage(models.TextChoices):
    STARTED = "started", _("Started")
    IDENTITY = "identity", _("Identity verified")
    INCOME = "income", _("Income details")
    CREDIT_AUTH = "credit_auth", _("Credit authorisation")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DISBURSED = "disbursed", _("Disbursed")


class ApplicationStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    ABANDONED = "abandoned", _("Abandoned")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")


class ContactOutcome(models.TextChoices):
    """Standard outcome codes of a marketing contact (calls, visits, WeChat); the funnel reads them."""

    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    REFUSED = "refused", _("Refused")
    DO_NOT_CALL = "do_not_call", _("Do not call")
    NOT_NOW = "not_now", _("Not now")
    INTERESTED = "interested", _("Interested")
    WILL_APPLY = "will_apply", _("Will apply")
    APPLIED = "applied", _("Applied")


# A contact "reached" the customer unless it is one of these; "interested" is any of the last three.
NOT_REACHED = (ContactOutcome.NO_ANSWER, ContactOutcome.BUSY, ContactOutcome.WRONG_NUMBER)
INTERESTED = (ContactOutcome.INTERESTED, ContactOutcome.WILL_APPLY, ContactOutcome.APPLIED)
