"""The demo branch's script library: a generic consumer-loan script, one per pool and one per scenario, all
with every objection answered. They go through the real services (create → submit → approve by another
person), so they pass the lint like any script must."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction

from xiaodai.org.models import Branch, Staff
from xiaodai.outreach import scripts as svc
from xiaodai.outreach.choices import Objection
from xiaodai.outreach.models import Script, ScriptVersion

GENERIC_PRODUCT = "消费贷"
GREETING = "您好，请问是【客户姓氏】先生/女士吗？我是【银行】【支行】的客户经理【姓名】，"
APPROVAL_NOTE = "示范话术：已核对年化利率、用途与禁用语"


def _apr_words(apr: Decimal) -> str:
    return f"年化利率{apr}%起（单利）"


def _monthly_interest(apr: Decimal) -> Decimal:
    """Interest on 10,000 yuan for one month at the APR (simple): what a customer hears as an example."""
    return (Decimal(10000) * apr / 100 / 12).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rebuttals(product: str, apr: Decimal) -> dict[str, list[str]]:
    """An answer to every objection type; rates always with their 年化利率 (C-13)."""
    rate = _apr_words(apr)
    return {
        Objection.RATE_HIGH: [
            f"理解您的顾虑。我们的{product}{rate}，按实际用款天数计息，不用款不计息，成本清清楚楚。",
            f"您可以算一笔账：借1万元用一个月，按年化利率{apr}%（单利）计算，利息约{_monthly_interest(apr)}元，"
            "具体以审批结果和合同为准。",
        ],
        Objection.NO_NEED: [
            "完全理解，您现在资金宽裕。这笔额度更像一份备用金，办下来不用不产生利息，装修、购车、孩子上学这些"
            "大开销时再用。",
            "很多客户都是先把额度准备好，真正需要时在手机银行申请提款，比临时到处筹钱踏实。",
        ],
        Objection.CREDIT_REPORT: [
            "申请时我行会在您授权后依法查询征信，这是所有正规贷款的必经环节，正常的查询记录不是负面信息。",
            "按时还款的贷款会在征信上留下良好的信用记录，对您以后办理其他银行业务反而有帮助。",
        ],
        Objection.LIMIT_LOW: [
            "额度是根据您的收入、资产和在我行的业务往来综合评估的，目前最高可到30万元。",
            "您按时用款还款一段时间后可以申请重新评估；如有代发工资、公积金缴存等资料，也可以补充提交。",
        ],
        Objection.HASSLE: [
            "现在全程线上办理：手机银行填写申请、上传资料，审批结果会短信通知您，不需要跑网点。",
            "如果您不方便操作，我可以约时间在网点一对一帮您办理，十几分钟就能提交申请。",
        ],
        Objection.OTHER_BANK: [
            f"多一家银行的备用额度并不冲突，您可以比较一下，我们{rate}，用成本更低的那一笔。",
            "我行贷款支持提前还款，按实际使用天数计息，具体以合同约定为准。",
        ],
        Objection.NO_TIME: [
            "不好意思打扰您了，我只占用您一分钟。您看今天下午还是明天上午方便，我再给您回电？",
            "我把产品说明发到您的手机银行消息里，您有空时看一看，有问题随时联系我。",
        ],
        Objection.DISTRUST: [
            "您的警惕非常对。您可以拨打我行官方客服热线核实我的工号，也可以直接到就近网点办理。",
            "我们不会索要您的密码和验证码，也不会要求您先转账或缴纳任何费用，申请只在我行手机银行或网点办理。",
        ],
    }


@dataclass(frozen=True)
class Seed:
    title: str
    opening: str
    selling_points: str
    scenario_text: str
    closing: str
    product: str = GENERIC_PRODUCT
    apr: Decimal = Decimal("3.45")
    pool: str = ""
    scenario: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict)  # rebuttals said first, per objection

    def fields(self) -> dict[str, Any]:
        objections = rebuttals(self.product, self.apr)
        for code, texts in self.extra.items():
            objections[code] = [*texts, *objections[code]]
        return {
            "opening": GREETING + self.opening,
            "selling_points": self.selling_points,
            "scenario_text": self.scenario_text,
            "closing": self.closing,
            "apr": self.apr,
            "objections": objections,
        }


def _points(apr: Decimal, *lines: str) -> str:
    body = [f"{_apr_words(apr)}，按日计息，随借随还。", *lines]
    return "\n".join(f"{i}. {line}" for i, line in enumerate(body, 1))


A = Decimal("3.45")
PAYROLL_APR = Decimal("2.95")
MORTGAGE_APR = Decimal("3.10")
USE_NOTE = "贷款用于个人消费，不得用于购房、首付、股票期货等投资或生产经营。"

SEEDS: tuple[Seed, ...] = (
    Seed(
        "消费贷通用话术",
        "打扰您一分钟。我行针对老客户推出了线上信用消费贷款，想简单跟您介绍一下，看看对您有没有帮助。",
        _points(A, "纯信用，无需抵押和担保，额度最高30万元。", "手机银行在线申请，审批结果短信通知。"),
        "装修、家电家具、购车、教育培训、旅游、婚庆等个人消费都可以用。" + USE_NOTE,
        "您看我现在帮您在手机银行里测一下可申请的额度，还是把操作步骤发给您？",
    ),
    Seed(
        "已授信未用信客户提款话术",
        "您之前在我行办理的消费贷额度已经审批好了，目前还没有使用，今天特地提醒您额度的使用方式。",
        _points(A, "额度已审批，有效期内随时在手机银行提款，不需要重新申请。", "不用款不计息，可提前还款。"),
        "最近不少客户用这笔额度换家电、做局部装修，或支付孩子的培训费用。额度在您手里，等真正要用时再提款。"
        + USE_NOTE,
        "我把手机银行提款的路径发给您，您方便时看一下；额度有效期到【到期日】，请留意，有问题直接打我电话。",
        pool="approved_undrawn",
    ),
    Seed(
        "未完成申请客户跟进话术",
        "看到您前几天在我行手机银行申请了消费贷，还差最后几步没有完成，想问问是不是遇到了什么问题。",
        _points(A, "您已填写的资料都保存着，接着完成即可。", "需要补充资料的话，我可以一对一指导您。"),
        "您当时申请是准备用在哪方面呢？装修、买车还是孩子教育？我可以按用途帮您选合适的还款方式。" + USE_NOTE,
        "那我们约个时间，我在电话里一步步陪您完成，或者您到网点来，我当面帮您提交。",
        pool="unfinished_application",
        extra={Objection.HASSLE: ["您卡在哪一步了？我现在就可以陪您一起操作，通常几分钟就能补完。"]},
    ),
    Seed(
        "存量贷款客户回访话术",
        "感谢您一直在我行按时还款。根据您良好的还款记录，您可以申请更高的额度或在到期后继续使用我行的消费贷。",
        _points(
            A, "良好的还款记录是重新审批的重要参考。", "结清后可在手机银行重新申请，资料大多无需重复提交。"
        ),
        "接下来家里如果有装修、换车、教育这类开销，可以提前规划额度。" + USE_NOTE,
        "您看我先帮您做一次额度评估，结果出来后再告诉您？",
        pool="current_borrower",
    ),
    Seed(
        "过往资信良好客户回访话术",
        "您之前在我行的消费贷已经按时结清，感谢您的信任。我们为还款记录良好的老客户准备了专属的额度评估。",
        _points(A, "老客户资料齐全，申请更简便。", "纯信用，无需抵押和担保，额度最高30万元。"),
        "不少老客户用它来安排装修、家电更新或者全家出游。" + USE_NOTE,
        "我现在帮您预约一次额度评估，您看方便吗？",
        pool="good_past_borrower",
    ),
    Seed(
        "代发工资客户薪享贷话术",
        "您单位【单位名称】在我行代发工资，我们为合作单位员工提供专属的信用消费贷款“薪享贷”。",
        _points(
            PAYROLL_APR,
            "合作单位员工专属，凭代发工资记录即可申请，无需抵押和担保。",
            "额度参考您的月收入，最高30万元。",
        ),
        "家里添置家电家具、孩子教育培训、带家人旅游，都可以用薪享贷来安排。" + USE_NOTE,
        "我把薪享贷的申请入口发到您的手机银行，您看今天还是明天方便办理？",
        product="薪享贷",
        apr=PAYROLL_APR,
        pool="payroll_staff",
        extra={Objection.LIMIT_LOW: ["薪享贷的额度和您的代发收入挂钩，收入稳定增长后可以申请重新评估。"]},
    ),
    Seed(
        "按揭客户安居消费贷话术",
        "感谢您在我行办理住房按揭并一直按时还款。按揭客户可以申请我行的“安居消费贷”，用于家庭消费。",
        _points(MORTGAGE_APR, "按揭还款记录良好的客户专属。", "额度最高30万元，期限灵活。"),
        "很多按揭客户收房后要装修、添置家具家电，这笔钱可以直接支付给装修公司或商户。注意：贷款不得用于购房、"
        "首付或偿还房贷。",
        "您看我先帮您评估一下可申请的额度，结果出来后再和您约时间细谈？",
        product="安居消费贷",
        apr=MORTGAGE_APR,
        pool="mortgage_holder",
    ),
    Seed(
        "优质信用卡客户话术",
        "您是我行信用卡的优质持卡人，用卡记录很好。除了信用卡，我们还可以为您提供一笔期限更灵活的消费贷。",
        _points(A, "额度最高30万元，期限最长3年，适合大额消费分期。", "信用卡额度留给日常消费，两不耽误。"),
        "像装修、换车、教育这些一次性的大额开销，用消费贷分期比占用信用卡额度更从容。" + USE_NOTE,
        "我帮您在手机银行测一下可申请的额度，您看好吗？",
        pool="premium_card",
    ),
    Seed(
        "贵宾存款客户话术",
        "感谢您一直以来对我行的支持。作为我行的贵宾客户，您可以享受消费贷的专属额度评估。",
        _points(A, "大额消费时不必提前支取定期存款，存款安排不受影响。", "贵宾客户专属服务经理全程办理。"),
        "比如装修、购车、子女留学这类大额支出，可以用消费贷来安排，存款继续按原计划存着。" + USE_NOTE,
        "您看哪天方便到网点来，我为您做一次专属的额度评估？",
        pool="premium_deposit",
    ),
    Seed(
        "装修场景话术",
        "我行有专门的装修消费贷款，很多客户在装修、添置建材家电时会用到，想跟您简单介绍一下。",
        _points(
            A, "可直接支付给装修公司或建材商户，额度最高30万元。", "可按装修进度分次提款，用多少算多少。"
        ),
        "硬装、软装、家电家具都可以用；按进度付款，资金用途清楚，装修节奏也更好把控。" + USE_NOTE,
        "我把装修贷款的申请材料清单发给您，您和装修公司确认合同后就可以申请。",
        scenario="renovation",
    ),
    Seed(
        "购车场景话术",
        "了解到您近期在看车（经合作车商介绍并经您同意），我行的消费贷可以用于购车，想跟您介绍一下。",
        _points(A, "款项直接支付给车商，额度最高30万元。", "期限灵活，月供压力小。"),
        "新车、二手车都可以，也可以用来支付购置税、保险和车辆装饰的费用。" + USE_NOTE,
        "您看好车型后告诉我，我帮您测算一下每月还款额，再约时间办理。",
        scenario="car",
    ),
    Seed(
        "教育场景话术",
        "孩子的学费、培训费和留学费用往往集中支出，我行的消费贷可以帮您分期安排，想跟您介绍一下。",
        _points(A, "学费、培训费、留学费用都可以用，额度最高30万元。", "可直接支付给学校或培训机构。"),
        "开学前、出国前这些时间点资金需求集中，提前准备额度，到时候更从容。" + USE_NOTE,
        "您看孩子的学费大概什么时候要交？我按时间帮您安排申请。",
        scenario="education",
    ),
    Seed(
        "旅游场景话术",
        "快到假期了，很多客户在安排全家出游，我行的消费贷可以用于旅游消费，想跟您介绍一下。",
        _points(A, "机票、酒店、旅行团费用都可以用。", "按日计息，回来后可以提前还款。"),
        "假期出游、带父母出去走走，费用可以分期安排，不影响日常开支。" + USE_NOTE,
        "您的出行时间定了吗？我可以提前帮您把额度准备好。",
        scenario="travel",
    ),
    Seed(
        "婚庆场景话术",
        "恭喜您！了解到您近期在筹备婚礼，婚宴、婚纱摄影、蜜月旅行的开销不小，我行的消费贷可以帮您分期安排。",
        _points(A, "婚宴、婚纱摄影、蜜月旅行都可以用，额度最高30万元。", "可直接支付给婚庆商户。"),
        "婚礼的各项费用集中在几个月里支付，用消费贷分期可以让新家庭的资金安排更从容。" + USE_NOTE,
        "您看我把申请材料清单发给您，您和婚庆公司签约后就可以申请？",
        scenario="wedding",
    ),
    Seed(
        "家具家电场景话术",
        "很多客户在添置家具、更换家电时会选择分期安排，我行的消费贷可以用于家居消费，想跟您介绍一下。",
        _points(A, "家具、家电、软装都可以用，额度最高30万元。", "可直接支付给家居商户，按日计息。"),
        "新房入住、旧房换新，家具家电一次性开销较大，分期安排不影响日常开支。" + USE_NOTE,
        "您看最近有添置的计划吗？我可以先帮您测算一下可申请的额度。",
        scenario="furniture",
    ),
    Seed(
        "医疗健康场景话术",
        "我行的消费贷可以用于医疗、口腔、体检等健康消费，想跟您简单介绍一下，供您需要时参考。",
        _points(A, "可用于自费医疗、口腔正畸、康复等支出，额度最高30万元。", "可直接支付给医疗机构。"),
        "健康方面的支出往往比较集中，提前了解额度，需要时更从容；不需要也完全没关系。" + USE_NOTE,
        "如果您有需要，我把申请材料清单发给您，您看好吗？",
        scenario="medical",
    ),
    Seed(
        "公积金客户装修话术",
        "您是住房公积金缴存客户，我行为公积金客户提供装修、家居方面的消费贷款，想跟您介绍一下。",
        _points(
            A, "公积金缴存客户可享专属额度评估，额度最高30万元。", "可按装修进度分次提款，用多少算多少。"
        ),
        "装修、添置家具家电都可以用，和公积金提取一起安排，资金更充裕。" + USE_NOTE,
        "我把装修贷款的申请材料清单发给您，您看什么时候方便办理？",
        scenario="provident_fund",
    ),
)


@transaction.atomic
def seed_scripts(branch: Branch, author: Staff, approver: Staff) -> list[ScriptVersion]:
    """Approved demo scripts for a branch: written by `author`, approved by `approver` (another person with
    the approve permission). Idempotent: a branch that has any script already gets nothing (returns [])."""
    if author.branch_id != branch.pk or approver.branch_id != branch.pk:
        raise ValueError("the author and the approver must work in the branch")
    if Script.objects.filter(branch=branch).exists():
        return []
    approved = []
    for seed in SEEDS:
        version = svc.create_script(author, seed.title, seed.product, seed.pool, seed.scenario, seed.fields())
        svc.submit(version, author)
        approved.append(svc.approve(version, approver, APPROVAL_NOTE))
    return approved
