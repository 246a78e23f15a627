"""Reference tables for the demo branch: Hangzhou's districts, roads, region codes, occupations and products.

Everything here is static; the generator draws from it with a seeded random source. Long lists are written
as space-separated strings to keep the tables readable.
"""

from __future__ import annotations

from dataclasses import dataclass

BANK_CODE = "DEMO"
BANK_NAME = "演示商业银行"
BRANCH_CODE = "HZ01"
BRANCH_NAME = "杭州分行"
CITY = "杭州"
PROVINCE = "浙江省"


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def weighted(text: str) -> tuple[tuple[str, int], ...]:
    """'a:3 b:1' → (('a', 3), ('b', 1))."""
    return tuple((item, int(weight)) for item, weight in (pair.split(":") for pair in text.split()))


@dataclass(frozen=True)
class District:
    """A city district served by one sub-branch (支行)."""

    key: str
    name: str  # 西湖区
    short: str  # 西湖
    share: float  # share of the branch's customers
    # Birth-registration codes, preferred first. Which one is valid depends on the birth year (districts
    # were created, merged and renamed, and stdnum checks the code against the year), so the generator
    # picks among the codes in force in each year.
    region_codes: tuple[str, ...]
    roads: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District(
        "shangcheng", "上城区", "上城", 0.17, words("330102 330104 330120"),
        words("解放路 庆春路 延安路 清泰街 望江东路 钱江路 秋涛路 江锦路 凯旋路 近江路"),
    ),
    District(
        "gongshu", "拱墅区", "拱墅", 0.16, words("330105 330103 330107 330120"),
        words("莫干山路 湖墅南路 大关路 上塘路 丽水路 登云路 石祥路 祥符路 德胜路 杭行路"),
    ),
    District(
        "xihu", "西湖区", "西湖", 0.20, words("330106 330120"),
        words("文三路 文二路 天目山路 教工路 古墩路 学院路 文一路 西溪路 之江路 紫荆花路"),
    ),
    District(
        "binjiang", "滨江区", "滨江", 0.13, words("330108 330106 330121"),
        words("江南大道 滨盛路 长河路 江陵路 网商路 闻涛路 江虹路 浦沿路 西兴路 秋溢路"),
    ),
    District(
        "xiaoshan", "萧山区", "萧山", 0.18, words("330109 330181 330121"),
        words("人民路 市心路 金城路 北干山南路 育才路 通惠路 萧金路 建设一路 湘湖路 鸿宁路"),
    ),
    District(
        "yuhang", "余杭区", "余杭", 0.16, words("330110 330184 330125"),
        words("文一西路 五常大道 良睦路 龙舟路 丰岭路 高教路 荆长大道 余杭塘路 紫金港路 良渚路"),
    ),
)  # fmt: skip

# Used when none of a district's codes was in force in the birth year: the city code never lapses.
CITY_REGION_CODE = "330100"

# Where the branch's new citizens (新市民) and other incomers were born: real county codes of Zhejiang and
# of the provinces many people move to Hangzhou from. Codes not in force in a birth year are skipped.
ORIGIN_REGION_CODES = words(
    "330122 330127 330381 330521 330881 330282 330329 331082 330621 330702 "  # Zhejiang
    "340121 340421 340621 341221 341222 341225 341523 341125 "  # Anhui
    "360121 360124 361121 360426 360681 "  # Jiangxi
    "410102 411321 411522 411723 410922 "  # Henan
    "421126 422822 429001 420621 430121 430321 430524 431121 "  # Hubei, Hunan
    "510121 510321 511321 522323 522622 520121 320721 321322 320321"  # Sichuan, Guizhou, Jiangsu
)

# Mobile prefixes of the three carriers, weighted roughly by subscribers.
MOBILE_PREFIXES = weighted(
    "135:6 136:6 137:6 138:8 139:8 150:4 151:4 152:3 157:3 158:4 159:4 182:3 183:3 184:2 187:3 188:3 "
    "130:3 131:3 132:3 155:3 156:3 185:3 186:4 133:3 153:3 180:3 181:3 189:4 177:2 199:3"
)
EMAIL_DOMAINS = words("qq.com 163.com 126.com sina.com foxmail.com 139.com")

COMPOUND_HEADS = words(
    "金色 阳光 翠苑 绿城 东方 锦绣 和睦 紫金 西溪 湖畔 江南 钱江 云栖 星洲 望江 桂花 兰亭 秋水 春江 枫华 "
    "丽都 新城 蓝庭 玉泉 梧桐 香樟 海棠 御园 景湖 明月"
)
COMPOUND_TAILS = words("小区 花园 家园 苑 公寓 新村 府 雅苑 名邸 嘉园")


@dataclass(frozen=True)
class Occupation:
    """An occupation, the kind of employer it works for, and its typical monthly income (yuan)."""

    name: str
    employer: str  # an enterprise kind, or "self" / "owner" / "" (none)
    median_income: int
    spread: float  # log-normal sigma of income


OCCUPATIONS: dict[str, Occupation] = {
    o.name: o
    for o in (
        Occupation("学生", "", 0, 0.0),
        Occupation("公务员", "gov", 13_000, 0.25),
        Occupation("教师", "edu", 11_000, 0.25),
        Occupation("医生", "health", 19_000, 0.35),
        Occupation("护士", "health", 10_000, 0.25),
        Occupation("企业职员", "corp", 9_000, 0.35),
        Occupation("工程师", "tech", 21_000, 0.40),
        Occupation("企业管理人员", "corp", 28_000, 0.45),
        Occupation("销售人员", "corp", 10_000, 0.45),
        Occupation("金融从业人员", "finance", 20_000, 0.40),
        Occupation("工人", "factory", 7_000, 0.25),
        Occupation("快递外卖员", "logistics", 8_500, 0.20),
        Occupation("个体工商户", "self", 12_000, 0.60),
        Occupation("私营企业主", "owner", 45_000, 0.70),
        Occupation("自由职业者", "", 9_000, 0.55),
        Occupation("退休人员", "", 5_500, 0.30),
    )
}

# Occupation weights per age band (up to and including the age), so age drives occupation and income.
OCCUPATION_BY_AGE: tuple[tuple[int, tuple[tuple[str, int], ...]], ...] = (
    (22, weighted("学生:60 企业职员:12 销售人员:8 工人:6 快递外卖员:8 自由职业者:6")),
    (
        29,
        weighted(
            "企业职员:25 工程师:14 销售人员:10 教师:5 医生:2 护士:4 公务员:5 金融从业人员:4 工人:7 "
            "快递外卖员:8 个体工商户:5 自由职业者:6 学生:3 企业管理人员:2"
        ),
    ),
    (
        44,
        weighted(
            "企业职员:20 工程师:12 企业管理人员:10 销售人员:7 教师:6 医生:4 护士:3 公务员:6 金融从业人员:4 "
            "工人:7 快递外卖员:5 个体工商户:8 私营企业主:5 自由职业者:3"
        ),
    ),
    (
        59,
        weighted(
            "企业职员:16 企业管理人员:12 工程师:5 销售人员:5 教师:6 医生:4 护士:2 公务员:7 金融从业人员:3 "
            "工人:10 个体工商户:10 私营企业主:7 自由职业者:3 退休人员:10"
        ),
    ),
    (200, weighted("退休人员:85 个体工商户:5 私营企业主:4 自由职业者:3 企业管理人员:3")),
)

# Income peaks in mid-career: (up to age, factor).
AGE_INCOME_FACTOR: tuple[tuple[int, float], ...] = ((24, 0.7), (29, 0.9), (39, 1.05), (49, 1.15), (59, 1.05))

# Age bands of the customer book (18-75) and their weights.
AGE_BANDS: tuple[tuple[int, int, int], ...] = (
    (18, 24, 10), (25, 34, 26), (35, 44, 24), (45, 54, 18), (55, 64, 13), (65, 75, 9),
)  # fmt: skip


@dataclass(frozen=True)
class EnterpriseKind:
    """A kind of employer: its industry, share of enterprises, payroll-partner odds and head-count range."""

    key: str
    industry: str
    share: int
    payroll_odds: float
    size: tuple[int, int]
    words: tuple[str, ...]  # what goes between the brand and 有限公司


ENTERPRISE_KINDS: tuple[EnterpriseKind, ...] = (
    EnterpriseKind("gov", "公共管理", 4, 0.9, (60, 600), ()),
    EnterpriseKind("edu", "教育", 8, 0.8, (50, 400), ()),
    EnterpriseKind("health", "卫生和社会工作", 6, 0.8, (150, 3000), ()),
    EnterpriseKind("finance", "金融业", 3, 0.4, (30, 600), words("投资管理 资产管理 融资租赁")),
    EnterpriseKind(
        "tech", "信息传输、软件和信息技术服务业", 20, 0.35, (30, 5000),
        words("网络科技 信息技术 软件 电子商务 智能科技 数据服务"),
    ),
    EnterpriseKind(
        "corp", "批发和零售业", 30, 0.25, (20, 1500),
        words("商贸 文化传媒 餐饮管理 物业管理 教育咨询 贸易 酒店管理"),
    ),
    EnterpriseKind(
        "factory", "制造业", 17, 0.35, (80, 6000),
        words("机械制造 纺织 服装 电子 新材料 汽车零部件 食品"),
    ),
    EnterpriseKind(
        "logistics", "交通运输、仓储和邮政业", 7, 0.3, (50, 3000), words("物流 快递服务 供应链管理"),
    ),
    EnterpriseKind("construction", "建筑业", 5, 0.3, (50, 2500), words("建设工程 装饰工程 建材 市政工程")),
)  # fmt: skip

GOV_DEPARTMENTS = words(
    "人民政府办公室 教育局 卫生健康局 市场监督管理局 财政局 住房和城乡建设局 人力资源和社会保障局 公安分局 "
    "交通运输局 民政局"
)
SCHOOL_KINDS = words("实验小学 中学 外国语学校 职业高级中学 小学 幼儿园 高级中学")
HOSPITAL_KINDS = words("人民医院 中医院 妇幼保健院 社区卫生服务中心 口腔医院")
SHOP_KINDS = words("餐馆 便利店 五金店 水果店 理发店 服装店 茶叶店 汽修店")

# Consumer credit products and their rate range, in units of 0.0001 % a year. The APR (年化利率) adds any
# fee on top of the rate (C-13), so it is never below the rate.
CREDIT_PRODUCTS: dict[str, tuple[int, int]] = {
    "薪享贷": (29_500, 39_000),  # payroll customers
    "优职贷": (29_500, 36_000),  # civil servants, teachers, medical staff
    "安居消费贷": (31_000, 42_000),  # mortgage holders
    "消费快贷": (34_000, 62_000),
    "e享贷": (36_000, 72_000),
}
MORTGAGE_PRODUCT = "个人住房按揭贷款"
BUSINESS_PRODUCTS = words("个人经营贷 小微快贷 商户贷")

OPT_OUT_REASONS = words("客户要求不再联系 电话中明确拒绝营销 投诉后要求停止营销 客户表示已有他行贷款")


@dataclass(frozen=True)
class Partner:
    """A scenario channel (消费场景渠道) that passes on names of people who agreed to hear from the bank."""

    code: str  # the feed's channel_code
    name: str  # who it is (not in the feed)
    scenario: str
    wording: str  # prefix of its consent wording version: RENO → RENO-2026.2 (year and half-year)
    share: int  # weight among the leads of people who are not customers


PARTNERS: tuple[Partner, ...] = (
    Partner("RENO-001", "杭州某家装公司(家装节)", "renovation", "RENO", 28),
    Partner("RENO-002", "某建材家居市场", "renovation", "HOME", 14),
    Partner("CAR-001", "某品牌汽车4S店", "car", "CAR", 20),
    Partner("CAR-002", "某二手车交易市场", "car", "UCAR", 8),
    Partner("HPF-001", "住房公积金线上服务合作方", "provident_fund", "HPF", 14),
    Partner("EDU-001", "某教育培训机构", "education", "EDU", 7),
    Partner("WED-001", "某婚庆服务公司", "wedding", "WED", 5),
    Partner("TRV-001", "某旅行社", "travel", "TRV", 4),
)


@dataclass(frozen=True)
class TagDef:
    code: str
    name: str
    kind: str


TAGS: tuple[TagDef, ...] = tuple(
    TagDef(code, name, "circle" if code.startswith("circle_") else "segment")
    for code, name in (
        pair.split(":")
        for pair in words(
            "seg_payroll:代发客户 seg_mortgage:按揭客户 seg_hnw:高净值 seg_affluent:财富客户 "
            "seg_new_citizen:新市民 seg_micro_business:小微企业主 seg_senior:银发客户 seg_youth:青年客户 "
            "circle_car_owner:有车族 circle_home_owner:有房族 circle_mum:宝妈 circle_teacher:教师 "
            "circle_medical:医护 circle_civil_servant:公务员 circle_white_collar:白领 "
            "circle_gold_collar:金领 circle_business_owner:企业主 circle_newlywed:新婚"
        )
    )
)
