//! Word lists and generators for realistic bilingual CRM data: Chinese and foreign companies,
//! people, addresses, phone numbers, e-mail addresses and tax ids. Shared by the demo data set
//! and the benchmark loader, and deterministic for a given seed.
//!
//! Everything produced here is already in the canonical form the record service stores: phones
//! in E.164, e-mail addresses in lower case, addresses with all six parts, money as the service
//! formats it. The tests check that against the service's own validation.

use pinyin::ToPinyin;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use guanxi_core::records::money;

/// Sales regions of mainland China, the unit the benchmark's teams are organized by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Region {
    East,
    North,
    South,
    Central,
    Southwest,
    Northwest,
    Northeast,
}

pub(crate) struct CnCity {
    pub province: &'static str,
    pub city: &'static str,
    /// The city as people say it in a company name (北京, 苏州).
    pub short: &'static str,
    pub pinyin: &'static str,
    /// Long-distance code without the trunk 0.
    pub area: &'static str,
    /// First four digits of the city's postal codes.
    pub postal: &'static str,
    /// District and its administrative division code (the 6 digits inside a credit code).
    pub districts: &'static [(&'static str, &'static str)],
    pub region: Region,
    /// Relative share of companies.
    pub weight: u32,
}

pub(crate) static CN_CITIES: &[CnCity] = &[
    CnCity {
        province: "北京市",
        city: "北京市",
        short: "北京",
        pinyin: "beijing",
        area: "10",
        postal: "1000",
        districts: &[
            ("海淀区", "110108"),
            ("朝阳区", "110105"),
            ("东城区", "110101"),
            ("西城区", "110102"),
            ("丰台区", "110106"),
        ],
        region: Region::North,
        weight: 14,
    },
    CnCity {
        province: "上海市",
        city: "上海市",
        short: "上海",
        pinyin: "shanghai",
        area: "21",
        postal: "2000",
        districts: &[
            ("浦东新区", "310115"),
            ("徐汇区", "310104"),
            ("静安区", "310106"),
            ("黄浦区", "310101"),
            ("闵行区", "310112"),
        ],
        region: Region::East,
        weight: 14,
    },
    CnCity {
        province: "天津市",
        city: "天津市",
        short: "天津",
        pinyin: "tianjin",
        area: "22",
        postal: "3000",
        districts: &[
            ("和平区", "120101"),
            ("南开区", "120104"),
            ("滨海新区", "120116"),
        ],
        region: Region::North,
        weight: 4,
    },
    CnCity {
        province: "重庆市",
        city: "重庆市",
        short: "重庆",
        pinyin: "chongqing",
        area: "23",
        postal: "4000",
        districts: &[
            ("渝中区", "500103"),
            ("江北区", "500105"),
            ("渝北区", "500112"),
        ],
        region: Region::Southwest,
        weight: 4,
    },
    CnCity {
        province: "广东省",
        city: "广州市",
        short: "广州",
        pinyin: "guangzhou",
        area: "20",
        postal: "5106",
        districts: &[
            ("天河区", "440106"),
            ("越秀区", "440104"),
            ("番禺区", "440113"),
            ("海珠区", "440105"),
        ],
        region: Region::South,
        weight: 9,
    },
    CnCity {
        province: "广东省",
        city: "深圳市",
        short: "深圳",
        pinyin: "shenzhen",
        area: "755",
        postal: "5180",
        districts: &[
            ("南山区", "440305"),
            ("福田区", "440304"),
            ("宝安区", "440306"),
            ("龙岗区", "440307"),
        ],
        region: Region::South,
        weight: 11,
    },
    CnCity {
        province: "浙江省",
        city: "杭州市",
        short: "杭州",
        pinyin: "hangzhou",
        area: "571",
        postal: "3100",
        districts: &[
            ("西湖区", "330106"),
            ("滨江区", "330108"),
            ("余杭区", "330110"),
            ("拱墅区", "330105"),
        ],
        region: Region::East,
        weight: 8,
    },
    CnCity {
        province: "浙江省",
        city: "宁波市",
        short: "宁波",
        pinyin: "ningbo",
        area: "574",
        postal: "3150",
        districts: &[
            ("鄞州区", "330212"),
            ("海曙区", "330203"),
            ("北仑区", "330206"),
        ],
        region: Region::East,
        weight: 4,
    },
    CnCity {
        province: "江苏省",
        city: "南京市",
        short: "南京",
        pinyin: "nanjing",
        area: "25",
        postal: "2100",
        districts: &[
            ("鼓楼区", "320106"),
            ("玄武区", "320102"),
            ("江宁区", "320115"),
            ("建邺区", "320105"),
        ],
        region: Region::East,
        weight: 6,
    },
    CnCity {
        province: "江苏省",
        city: "苏州市",
        short: "苏州",
        pinyin: "suzhou",
        area: "512",
        postal: "2150",
        districts: &[
            ("姑苏区", "320508"),
            ("吴中区", "320506"),
            ("虎丘区", "320505"),
            ("相城区", "320507"),
        ],
        region: Region::East,
        weight: 7,
    },
    CnCity {
        province: "山东省",
        city: "青岛市",
        short: "青岛",
        pinyin: "qingdao",
        area: "532",
        postal: "2660",
        districts: &[
            ("市南区", "370202"),
            ("崂山区", "370212"),
            ("黄岛区", "370211"),
        ],
        region: Region::East,
        weight: 4,
    },
    CnCity {
        province: "山东省",
        city: "济南市",
        short: "济南",
        pinyin: "jinan",
        area: "531",
        postal: "2500",
        districts: &[
            ("历下区", "370102"),
            ("槐荫区", "370104"),
            ("历城区", "370112"),
        ],
        region: Region::East,
        weight: 3,
    },
    CnCity {
        province: "安徽省",
        city: "合肥市",
        short: "合肥",
        pinyin: "hefei",
        area: "551",
        postal: "2300",
        districts: &[
            ("蜀山区", "340104"),
            ("包河区", "340111"),
            ("庐阳区", "340103"),
        ],
        region: Region::East,
        weight: 3,
    },
    CnCity {
        province: "福建省",
        city: "厦门市",
        short: "厦门",
        pinyin: "xiamen",
        area: "592",
        postal: "3610",
        districts: &[
            ("思明区", "350203"),
            ("湖里区", "350206"),
            ("集美区", "350211"),
        ],
        region: Region::East,
        weight: 3,
    },
    CnCity {
        province: "湖北省",
        city: "武汉市",
        short: "武汉",
        pinyin: "wuhan",
        area: "27",
        postal: "4300",
        districts: &[
            ("洪山区", "420111"),
            ("江汉区", "420103"),
            ("武昌区", "420106"),
        ],
        region: Region::Central,
        weight: 5,
    },
    CnCity {
        province: "湖南省",
        city: "长沙市",
        short: "长沙",
        pinyin: "changsha",
        area: "731",
        postal: "4100",
        districts: &[
            ("岳麓区", "430104"),
            ("芙蓉区", "430102"),
            ("雨花区", "430111"),
        ],
        region: Region::Central,
        weight: 3,
    },
    CnCity {
        province: "河南省",
        city: "郑州市",
        short: "郑州",
        pinyin: "zhengzhou",
        area: "371",
        postal: "4500",
        districts: &[
            ("金水区", "410105"),
            ("二七区", "410103"),
            ("中原区", "410102"),
        ],
        region: Region::Central,
        weight: 3,
    },
    CnCity {
        province: "四川省",
        city: "成都市",
        short: "成都",
        pinyin: "chengdu",
        area: "28",
        postal: "6100",
        districts: &[
            ("武侯区", "510107"),
            ("锦江区", "510104"),
            ("青羊区", "510105"),
            ("成华区", "510108"),
        ],
        region: Region::Southwest,
        weight: 6,
    },
    CnCity {
        province: "陕西省",
        city: "西安市",
        short: "西安",
        pinyin: "xian",
        area: "29",
        postal: "7100",
        districts: &[
            ("雁塔区", "610113"),
            ("碑林区", "610103"),
            ("未央区", "610112"),
        ],
        region: Region::Northwest,
        weight: 3,
    },
    CnCity {
        province: "辽宁省",
        city: "沈阳市",
        short: "沈阳",
        pinyin: "shenyang",
        area: "24",
        postal: "1100",
        districts: &[
            ("和平区", "210102"),
            ("沈河区", "210103"),
            ("浑南区", "210112"),
        ],
        region: Region::Northeast,
        weight: 3,
    },
    CnCity {
        province: "辽宁省",
        city: "大连市",
        short: "大连",
        pinyin: "dalian",
        area: "411",
        postal: "1160",
        districts: &[
            ("中山区", "210202"),
            ("西岗区", "210203"),
            ("甘井子区", "210211"),
        ],
        region: Region::Northeast,
        weight: 2,
    },
];

pub(crate) struct ForeignCity {
    /// ISO 3166 alpha-2.
    pub country: &'static str,
    pub state: &'static str,
    pub city: &'static str,
    pub districts: &'static [&'static str],
    pub postal_codes: &'static [&'static str],
    /// Country calling code and the area code of landlines, and how many digits follow.
    pub calling: &'static str,
    pub area: &'static str,
    pub local_digits: usize,
    /// What a local number may start with (all in service, as libphonenumber knows).
    pub local_prefixes: &'static [&'static str],
    pub streets: &'static [&'static str],
}

const US_STREETS: &[&str] = &[
    "Market Street",
    "Main Street",
    "Broadway",
    "Park Avenue",
    "Pine Street",
    "Lake Street",
    "Washington Street",
    "Mission Street",
];
const DE_STREETS: &[&str] = &[
    "Friedrichstraße",
    "Hauptstraße",
    "Bahnhofstraße",
    "Schillerstraße",
    "Goethestraße",
    "Lindenstraße",
    "Kaiserstraße",
    "Mühlenweg",
];
const GB_STREETS: &[&str] = &[
    "High Street",
    "King Street",
    "Victoria Road",
    "Station Road",
    "Church Lane",
    "Queen Street",
    "Mill Lane",
    "Park Road",
];
const SG_STREETS: &[&str] = &[
    "Raffles Place",
    "Marina Boulevard",
    "Orchard Road",
    "Shenton Way",
    "Anson Road",
    "Cecil Street",
];

pub(crate) static FOREIGN_CITIES: &[ForeignCity] = &[
    ForeignCity {
        country: "US",
        state: "California",
        city: "San Francisco",
        districts: &[],
        postal_codes: &["94103", "94105", "94107", "94111"],
        calling: "1",
        area: "415",
        local_digits: 7,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: US_STREETS,
    },
    ForeignCity {
        country: "US",
        state: "New York",
        city: "New York",
        districts: &["Manhattan", "Brooklyn"],
        postal_codes: &["10001", "10016", "10022", "10036"],
        calling: "1",
        area: "212",
        local_digits: 7,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: US_STREETS,
    },
    ForeignCity {
        country: "US",
        state: "Washington",
        city: "Seattle",
        districts: &[],
        postal_codes: &["98101", "98104", "98109"],
        calling: "1",
        area: "206",
        local_digits: 7,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: US_STREETS,
    },
    ForeignCity {
        country: "US",
        state: "Illinois",
        city: "Chicago",
        districts: &[],
        postal_codes: &["60601", "60606", "60611"],
        calling: "1",
        area: "312",
        local_digits: 7,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: US_STREETS,
    },
    ForeignCity {
        country: "DE",
        state: "Berlin",
        city: "Berlin",
        districts: &["Mitte", "Kreuzberg", "Charlottenburg"],
        postal_codes: &["10115", "10117", "10178", "10969"],
        calling: "49",
        area: "30",
        local_digits: 8,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: DE_STREETS,
    },
    ForeignCity {
        country: "DE",
        state: "Bayern",
        city: "München",
        districts: &["Altstadt-Lehel", "Schwabing", "Maxvorstadt"],
        postal_codes: &["80331", "80333", "80335", "80801"],
        calling: "49",
        area: "89",
        local_digits: 8,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: DE_STREETS,
    },
    ForeignCity {
        country: "DE",
        state: "Hamburg",
        city: "Hamburg",
        districts: &["Altona", "HafenCity", "Eimsbüttel"],
        postal_codes: &["20095", "20097", "22767"],
        calling: "49",
        area: "40",
        local_digits: 8,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: DE_STREETS,
    },
    ForeignCity {
        country: "DE",
        state: "Baden-Württemberg",
        city: "Stuttgart",
        districts: &["Mitte", "Vaihingen"],
        postal_codes: &["70173", "70174", "70178"],
        calling: "49",
        area: "711",
        local_digits: 7,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: DE_STREETS,
    },
    ForeignCity {
        country: "GB",
        state: "England",
        city: "London",
        districts: &["City of London", "Westminster", "Camden"],
        postal_codes: &["EC1A 1BB", "EC2A 4NE", "W1D 3QF", "SE1 9SG"],
        calling: "44",
        area: "20",
        local_digits: 8,
        local_prefixes: &["3", "7", "8"],
        streets: GB_STREETS,
    },
    ForeignCity {
        country: "GB",
        state: "England",
        city: "Manchester",
        districts: &[],
        postal_codes: &["M1 1AE", "M2 3WQ", "M3 4LZ"],
        calling: "44",
        area: "161",
        local_digits: 7,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: GB_STREETS,
    },
    ForeignCity {
        country: "GB",
        state: "Scotland",
        city: "Edinburgh",
        districts: &[],
        postal_codes: &["EH1 1YZ", "EH2 2ER", "EH3 9WJ"],
        calling: "44",
        area: "131",
        local_digits: 7,
        local_prefixes: &["2", "3", "4", "5", "6", "7", "8"],
        streets: GB_STREETS,
    },
    ForeignCity {
        country: "JP",
        state: "Tokyo",
        city: "Tokyo",
        districts: &["Chiyoda", "Minato", "Shibuya", "Shinjuku"],
        postal_codes: &["100-0005", "105-0011", "106-0032", "150-0002"],
        calling: "81",
        area: "3",
        local_digits: 8,
        local_prefixes: &["3", "4", "5", "6"],
        streets: &[],
    },
    ForeignCity {
        country: "JP",
        state: "Osaka",
        city: "Osaka",
        districts: &["Kita", "Chuo"],
        postal_codes: &["530-0001", "541-0041"],
        calling: "81",
        area: "6",
        local_digits: 8,
        local_prefixes: &["4", "6", "7", "8"],
        streets: &[],
    },
    ForeignCity {
        country: "SG",
        state: "",
        city: "Singapore",
        districts: &["Downtown Core", "Orchard", "Tanjong Pagar"],
        postal_codes: &["018956", "048583", "038988", "238859", "068914"],
        calling: "65",
        area: "",
        local_digits: 8,
        local_prefixes: &["61", "63", "64", "65", "67", "68"],
        streets: SG_STREETS,
    },
];

/// Japanese street addresses are block numbers in a neighbourhood.
const JP_AREAS: &[&str] = &[
    "Marunouchi",
    "Roppongi",
    "Shiba",
    "Jingumae",
    "Umeda",
    "Honmachi",
];

/// Where a company or person is: a Chinese city or a foreign one.
#[derive(Clone, Copy)]
pub(crate) enum Place {
    Cn(&'static CnCity),
    Foreign(&'static ForeignCity),
}

impl Place {
    pub fn country(&self) -> &'static str {
        match self {
            Place::Cn(_) => "CN",
            Place::Foreign(f) => f.country,
        }
    }

    pub fn currency(&self) -> &'static str {
        match self.country() {
            "CN" => "CNY",
            "US" => "USD",
            "DE" => "EUR",
            "GB" => "GBP",
            "JP" => "JPY",
            "SG" => "SGD",
            _ => "USD",
        }
    }

    /// Rough exchange rate from CNY, to keep revenues comparable.
    fn per_cny(&self) -> f64 {
        match self.country() {
            "CN" => 1.0,
            "DE" => 0.13,
            "GB" => 0.11,
            "JP" => 20.0,
            "SG" => 0.19,
            _ => 0.14,
        }
    }
}

/// One industry: the Chinese word in company names, the industry field, and a short English
/// word for domain names.
struct Trade {
    word: &'static str,
    industry: &'static str,
    en: &'static str,
}

const fn trade(word: &'static str, industry: &'static str, en: &'static str) -> Trade {
    Trade { word, industry, en }
}

static TRADES: &[Trade] = &[
    trade("数据科技", "信息技术", "data"),
    trade("信息技术", "信息技术", "it"),
    trade("软件", "信息技术", "soft"),
    trade("网络科技", "信息技术", "net"),
    trade("智能科技", "信息技术", "ai"),
    trade("精密机械", "制造业", "mach"),
    trade("机电设备", "制造业", "me"),
    trade("新材料", "制造业", "material"),
    trade("自动化设备", "制造业", "auto"),
    trade("汽车零部件", "汽车", "parts"),
    trade("电子", "电子", "elec"),
    trade("光电", "电子", "opto"),
    trade("商贸", "零售", "trade"),
    trade("百货", "零售", "mall"),
    trade("连锁超市", "零售", "mart"),
    trade("医疗器械", "医疗健康", "med"),
    trade("生物医药", "医疗健康", "bio"),
    trade("投资管理", "金融", "invest"),
    trade("融资租赁", "金融", "lease"),
    trade("物流", "物流", "logistics"),
    trade("供应链管理", "物流", "scm"),
    trade("国际货运代理", "物流", "freight"),
    trade("教育科技", "教育", "edu"),
    trade("培训", "教育", "training"),
    trade("文化传媒", "传媒", "media"),
    trade("新能源", "能源", "energy"),
    trade("电力工程", "能源", "power"),
    trade("食品", "食品饮料", "food"),
    trade("建筑工程", "建筑", "build"),
    trade("化工", "化工", "chem"),
    trade("农业科技", "农业", "agri"),
    trade("管理咨询", "咨询", "consult"),
    trade("通信技术", "电信", "tel"),
    trade("置业", "房地产", "estate"),
    trade("餐饮管理", "餐饮", "dining"),
];

/// Characters for company trade names (字号): two of them make a name such as 中太 or 华信.
const BRAND_CHARS: &[char] = &[
    '中', '华', '国', '天', '金', '信', '达', '盛', '通', '恒', '鑫', '瑞', '安', '泰', '宏', '新',
    '远', '海', '德', '润', '博', '创', '星', '嘉', '和', '佳', '明', '光', '东', '方', '永', '兴',
    '利', '丰', '源', '正', '力', '联', '立', '汇', '合', '美', '锦', '荣', '辉', '腾', '飞', '凯',
    '宇', '启', '思', '睿', '卓', '越', '晨', '阳', '云', '峰', '诚', '万', '隆', '昌', '益', '鼎',
    '祥', '宝', '富', '顺', '广', '成', '建', '振', '维', '航', '蓝', '银', '宁', '康', '健', '乐',
    '智', '慧', '捷', '奥', '亿', '汉', '朗', '弘', '森', '林', '晶', '时', '道', '品', '优', '科',
    '聚', '恩', '友', '翔',
];

const CN_SUFFIXES: &[(&str, u32)] = &[
    ("有限公司", 70),
    ("股份有限公司", 15),
    ("有限责任公司", 10),
    ("集团有限公司", 5),
];

/// Weighted roughly by how common each surname is.
const CN_SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 70),
    ("张", 66),
    ("刘", 53),
    ("陈", 45),
    ("杨", 31),
    ("黄", 24),
    ("赵", 20),
    ("吴", 20),
    ("周", 19),
    ("徐", 15),
    ("孙", 15),
    ("马", 13),
    ("朱", 13),
    ("胡", 12),
    ("郭", 11),
    ("何", 11),
    ("高", 10),
    ("林", 10),
    ("罗", 9),
    ("郑", 9),
    ("梁", 9),
    ("谢", 7),
    ("宋", 7),
    ("唐", 6),
    ("许", 6),
    ("韩", 6),
    ("冯", 6),
    ("邓", 6),
    ("曹", 6),
    ("彭", 5),
    ("曾", 5),
    ("肖", 5),
    ("田", 5),
    ("董", 5),
    ("袁", 4),
    ("潘", 4),
    ("于", 4),
    ("蒋", 4),
    ("蔡", 4),
    ("余", 4),
    ("杜", 4),
    ("叶", 4),
    ("程", 4),
    ("苏", 3),
    ("魏", 3),
    ("吕", 3),
    ("丁", 3),
    ("任", 3),
    ("沈", 3),
    ("姚", 3),
    ("卢", 3),
    ("姜", 3),
    ("崔", 3),
    ("钟", 3),
    ("谭", 3),
    ("陆", 3),
    ("汪", 3),
    ("范", 3),
    ("金", 3),
    ("石", 3),
    ("廖", 2),
    ("贾", 2),
    ("夏", 2),
    ("韦", 2),
    ("方", 2),
    ("白", 2),
    ("邹", 2),
    ("孟", 2),
    ("熊", 2),
    ("秦", 2),
    ("邱", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("段", 2),
    ("雷", 2),
    ("侯", 2),
    ("龙", 2),
    ("史", 2),
    ("陶", 2),
    ("黎", 2),
    ("贺", 2),
    ("顾", 2),
    ("毛", 2),
    ("郝", 2),
    ("龚", 2),
    ("邵", 2),
    ("万", 1),
    ("钱", 1),
    ("严", 1),
    ("武", 1),
    ("戴", 1),
    ("莫", 1),
    ("孔", 1),
    ("向", 1),
    ("汤", 1),
    ("欧阳", 1),
    ("上官", 1),
    ("司马", 1),
];

const CN_MALE_1: &[&str] = &[
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "斌", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林", "峰", "亮", "成",
    "三",
];
const CN_FEMALE_1: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "燕", "萍", "红", "琳", "婷", "雪",
    "倩", "颖", "莉", "洁", "佳", "慧", "晶", "欣", "月", "瑶",
];
const CN_MALE_2: &[&str] = &[
    "建国", "晓明", "志强", "浩然", "子轩", "宇航", "俊杰", "文博", "一鸣", "振华", "海涛", "国强",
    "天佑", "思远", "明轩", "立伟", "建华", "永康", "家豪", "博文", "泽宇", "嘉诚", "德明", "学军",
    "少华", "晓东", "志明", "文涛", "国华", "建军",
];
const CN_FEMALE_2: &[&str] = &[
    "晓燕", "秀英", "桂英", "欣怡", "雨桐", "梓涵", "佳怡", "思琪", "海燕", "秀兰", "美玲", "丽娟",
    "婉婷", "雅静", "诗涵", "静怡", "慧敏", "晓丽", "玉兰", "文静", "子涵", "梦瑶", "若曦", "欣悦",
    "淑华", "芳芳",
];

const EN_MALE: &[&str] = &[
    "James",
    "Michael",
    "David",
    "Daniel",
    "Thomas",
    "William",
    "Matthew",
    "Andrew",
    "Christopher",
    "Ryan",
    "Benjamin",
    "Oliver",
    "Jack",
    "Harry",
    "George",
    "Samuel",
];
const EN_FEMALE: &[&str] = &[
    "Sarah",
    "Emily",
    "Emma",
    "Olivia",
    "Jessica",
    "Laura",
    "Sophie",
    "Charlotte",
    "Hannah",
    "Rachel",
    "Amy",
    "Grace",
    "Lucy",
    "Megan",
    "Anna",
    "Claire",
];
const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Anderson", "Thompson", "Walker", "Wright", "Clarke", "Hughes", "Evans", "Roberts", "Carter",
    "Mitchell", "Turner", "Baker", "Cooper", "Morgan", "Bennett", "Reed", "Foster",
];
const DE_MALE: &[&str] = &[
    "Lukas",
    "Felix",
    "Jonas",
    "Maximilian",
    "Tobias",
    "Stefan",
    "Andreas",
    "Michael",
    "Florian",
    "Sebastian",
    "Matthias",
    "Jan",
    "Jürgen",
];
const DE_FEMALE: &[&str] = &[
    "Anna",
    "Julia",
    "Lena",
    "Laura",
    "Katharina",
    "Sophie",
    "Lea",
    "Sarah",
    "Johanna",
    "Miriam",
    "Sabine",
    "Claudia",
];
const DE_LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Braun",
    "Zimmermann",
    "Krüger",
    "Hartmann",
];
/// (written, romanized)
const JP_FAMILY: &[(&str, &str)] = &[
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("山本", "yamamoto"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山田", "yamada"),
];
const JP_MALE: &[(&str, &str)] = &[
    ("健太", "kenta"),
    ("翔太", "shota"),
    ("大輔", "daisuke"),
    ("拓也", "takuya"),
    ("直樹", "naoki"),
    ("浩二", "koji"),
];
const JP_FEMALE: &[(&str, &str)] = &[
    ("美咲", "misaki"),
    ("陽子", "yoko"),
    ("由美", "yumi"),
    ("愛", "ai"),
    ("真由美", "mayumi"),
    ("彩", "aya"),
];
const SG_FAMILY: &[&str] = &[
    "Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Kumar",
];
const SG_MALE: &[&str] = &[
    "Wei Ming",
    "Jun Jie",
    "Kai Wen",
    "Zhi Hao",
    "Arjun",
    "Ahmad",
    "Boon Kiat",
];
const SG_FEMALE: &[&str] = &[
    "Hui Min", "Xin Yi", "Li Ting", "Mei Ling", "Shu Fen", "Priya", "Siti",
];

/// First words of foreign company names.
const EN_BRANDS: &[&str] = &[
    "Acme",
    "Northwind",
    "Blue Harbor",
    "Summit",
    "Evergreen",
    "Silverline",
    "Brightwater",
    "Redwood",
    "Ironbridge",
    "Crescent",
    "Pinnacle",
    "Horizon",
    "Oakridge",
    "Sterling",
    "Meridian",
    "Atlas",
    "Falcon",
    "Granite",
    "Lighthouse",
    "Maple",
    "Riverstone",
    "Skyline",
    "Westfield",
    "Kestrel",
    "Orion",
    "Vantage",
    "Harborview",
    "Clearwater",
    "Nordlicht",
    "Rheinland",
    "Alpenblick",
    "Sakura",
    "Hikari",
    "Fujimi",
    "Merlion",
    "Straits",
];
/// The industries generated companies are in, as the setup list names them (English, Chinese):
/// the installed defaults first, then the trades they leave out.
pub(crate) const INDUSTRIES: &[(&str, &str)] = &[
    ("Manufacturing", "制造业"),
    ("Information technology", "信息技术"),
    ("Finance", "金融"),
    ("Retail", "零售"),
    ("Education", "教育"),
    ("Healthcare", "医疗健康"),
    ("Real estate", "房地产"),
    ("Logistics", "物流"),
    ("Energy", "能源"),
    ("Automotive", "汽车"),
    ("Electronics", "电子"),
    ("Media", "传媒"),
    ("Food and beverage", "食品饮料"),
    ("Construction", "建筑"),
    ("Chemicals", "化工"),
    ("Agriculture", "农业"),
    ("Consulting", "咨询"),
    ("Telecommunications", "电信"),
    ("Catering", "餐饮"),
];

/// Where generated records come from, as the setup list names them (English, Chinese), and how
/// often.
pub(crate) const SOURCES: [(&str, &str, u32); 9] = [
    ("Website", "网站", 20),
    ("Referral", "转介绍", 20),
    ("Trade show", "展会", 15),
    ("Advertising", "广告", 8),
    ("Cold call", "电话陌拜", 10),
    ("Partner", "合作伙伴", 8),
    ("Social media", "社交媒体", 7),
    ("Existing customer", "老客户", 8),
    ("Other", "其他", 4),
];

/// (English trade word, industry)
const EN_TRADES: &[(&str, &str)] = &[
    ("Robotics", "制造业"),
    ("Traders", "零售"),
    ("Logistics", "物流"),
    ("Analytics", "信息技术"),
    ("Software", "信息技术"),
    ("Systems", "信息技术"),
    ("Foods", "食品饮料"),
    ("Medical", "医疗健康"),
    ("Pharma", "医疗健康"),
    ("Industries", "制造业"),
    ("Instruments", "电子"),
    ("Electronics", "电子"),
    ("Materials", "化工"),
    ("Energy", "能源"),
    ("Capital", "金融"),
    ("Consulting", "咨询"),
    ("Automotive", "汽车"),
    ("Learning", "教育"),
];

const CN_STREETS: &[&str] = &[
    "中关村大街",
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "长江路",
    "科技园路",
    "创业路",
    "学院路",
    "花园路",
    "滨江大道",
    "世纪大道",
    "工业园路",
    "高新大道",
    "金融街",
    "南京路",
    "延安路",
    "淮海路",
    "黄河路",
    "东方路",
    "文化路",
    "和平路",
    "新华路",
    "光明路",
    "胜利路",
    "青年路",
    "迎宾大道",
    "软件园路",
];
const CN_BUILDINGS: &[&str] = &[
    "科技大厦",
    "国际中心",
    "创新园",
    "商务中心",
    "金融大厦",
    "产业园",
    "写字楼",
];

/// (title, department)
const CN_JOBS: &[(&str, &str)] = &[
    ("总经理", "总经办"),
    ("副总经理", "总经办"),
    ("董事长", "董事会"),
    ("采购经理", "采购部"),
    ("采购专员", "采购部"),
    ("财务总监", "财务部"),
    ("财务经理", "财务部"),
    ("技术总监", "技术部"),
    ("信息中心主任", "信息中心"),
    ("IT经理", "信息中心"),
    ("销售总监", "销售部"),
    ("市场经理", "市场部"),
    ("行政主管", "行政部"),
    ("项目经理", "项目部"),
    ("运营总监", "运营部"),
    ("人力资源经理", "人力资源部"),
    ("工程师", "技术部"),
    ("总工程师", "技术部"),
    ("质量经理", "质量部"),
    ("客服主管", "客服部"),
];
const EN_JOBS: &[(&str, &str)] = &[
    ("CEO", "Management"),
    ("CFO", "Finance"),
    ("CTO", "Technology"),
    ("Head of Procurement", "Procurement"),
    ("Purchasing Manager", "Procurement"),
    ("IT Manager", "IT"),
    ("Sales Director", "Sales"),
    ("Marketing Manager", "Marketing"),
    ("Operations Manager", "Operations"),
    ("Project Manager", "Projects"),
    ("Office Manager", "Administration"),
    ("Senior Engineer", "Engineering"),
    ("Quality Manager", "Quality"),
    ("Customer Service Lead", "Customer Service"),
];

const CN_ACCOUNT_NOTES: &[&str] = &[
    "年度框架协议已签署，按季度回款。",
    "重点客户，对售后服务响应速度要求较高。",
    "展会获取的潜在客户，需持续跟进需求。",
    "老客户转介绍，关系稳定，可推动交叉销售。",
    "竞争对手近期频繁接触，需关注流失风险。",
    "客户满意度调查得分较高，适合作为样板客户。",
    "价格敏感，决策链较长，需要技术方案支持。",
    "已完成首次拜访，等待预算审批。",
    "合同即将到期，安排续约沟通。",
    "采购流程规范，需提前准备招投标材料。",
];
const EN_ACCOUNT_NOTES: &[&str] = &[
    "Framework agreement signed; invoices quarterly.",
    "Key account that expects fast after-sales response.",
    "Met at a trade show; follow up on their requirements.",
    "Referred by an existing customer; good cross-sell potential.",
    "A competitor has been in touch recently; watch the churn risk.",
    "Contract renewal due next quarter.",
];
const CN_CONTACT_NOTES: &[&str] = &[
    "关键决策人。",
    "负责技术评估。",
    "偏好微信沟通。",
    "每年春节前拜访。",
    "对价格比较敏感。",
    "新上任，需要重新建立关系。",
];
const EN_CONTACT_NOTES: &[&str] = &[
    "Decision maker.",
    "Leads the technical evaluation.",
    "Prefers e-mail; avoid calls before 10am.",
    "New in the role.",
];

const CN_MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "180", "181", "182", "183", "185", "186", "187",
    "188", "189",
];
/// First digits of local landline numbers that are in service in every city above.
const CN_LANDLINE_FIRST: &[u8] = b"56";

const PUBLIC_CN_MAIL: &[&str] = &["qq.com", "163.com", "126.com", "sina.com", "foxmail.com"];
const PUBLIC_INTL_MAIL: &[&str] = &["gmail.com", "outlook.com", "icloud.com"];

/// A Chinese or foreign person's name.
pub(crate) struct Person {
    pub family: String,
    pub given: String,
    pub female: bool,
    /// ASCII local-part words for e-mail (`zhang`, `san`).
    pub mail_family: String,
    pub mail_given: String,
    pub chinese: bool,
}

/// What a contact needs to know about its account.
#[derive(Clone)]
pub(crate) struct AccountInfo {
    pub name: String,
    pub place: Place,
    pub domain: Option<String>,
    pub company: bool,
}

/// The pinyin of Chinese text, syllables run together (`中太` → `zhongtai`); other characters
/// are dropped.
pub(crate) fn pinyin_of(s: &str) -> String {
    s.chars()
        .filter_map(|c| c.to_pinyin())
        .map(|p| p.plain())
        .collect()
}

fn ascii_fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ => {}
        }
    }
    out
}

/// The check character of an organization code (GB 11714) over its first eight characters.
fn org_code_check(body: &[u8; 8]) -> u8 {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        n => b'0' + n as u8,
    }
}

/// A unified social credit code (GB 32100) for a company registered in `division`.
fn uscc(rng: &mut StdRng, division: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut body = [0u8; 8];
    for b in &mut body {
        *b = b'0' + rng.random_range(0..10u8);
    }
    let mut code: Vec<u8> = b"91".to_vec();
    code.extend_from_slice(division.as_bytes());
    code.extend_from_slice(&body);
    code.push(org_code_check(&body));
    let sum: usize = code
        .iter()
        .zip(WEIGHTS)
        .map(|(c, w)| ALPHABET.iter().position(|a| a == c).unwrap_or(0) * w)
        .sum();
    code.push(ALPHABET[(31 - sum % 31) % 31]);
    String::from_utf8_lossy(&code).into_owned()
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn null_if_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// An address in the service's canonical shape: all six parts, `null` where empty.
fn address(
    country: &str,
    province: &str,
    city: &str,
    district: &str,
    street: &str,
    postal: &str,
) -> Value {
    let mut o = Map::new();
    for (k, v) in [
        ("country", country),
        ("province", province),
        ("city", city),
        ("district", district),
        ("street", street),
        ("postal_code", postal),
    ] {
        o.insert(k.into(), null_if_empty(v));
    }
    Value::Object(o)
}

fn labelled(key: &str, value: &str, label: &str) -> Value {
    let mut o = Map::new();
    o.insert(key.into(), Value::String(value.into()));
    o.insert("label".into(), Value::String(label.into()));
    Value::Object(o)
}

/// The generator: a seeded random source and the vocabulary above.
pub(crate) struct Gen {
    pub rng: StdRng,
    city_weights: u32,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: StdRng::seed_from_u64(seed),
            city_weights: CN_CITIES.iter().map(|c| c.weight).sum(),
        }
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    fn pick_weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.rng.random_range(0..total);
        for (item, w) in items {
            if r < *w {
                return *item;
            }
            r -= w;
        }
        items[items.len() - 1].0
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    pub fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        self.rng.random_range(lo..=hi_inclusive)
    }

    /// A Chinese city, weighted by how many companies are there.
    pub fn cn_city(&mut self) -> &'static CnCity {
        let mut r = self.rng.random_range(0..self.city_weights);
        for c in CN_CITIES {
            if r < c.weight {
                return c;
            }
            r -= c.weight;
        }
        &CN_CITIES[0]
    }

    pub fn cn_city_in(&mut self, region: Region) -> &'static CnCity {
        for _ in 0..64 {
            let c = self.cn_city();
            if c.region == region {
                return c;
            }
        }
        CN_CITIES
            .iter()
            .find(|c| c.region == region)
            .unwrap_or(&CN_CITIES[0])
    }

    pub fn foreign_city(&mut self) -> &'static ForeignCity {
        let i = self.rng.random_range(0..FOREIGN_CITIES.len());
        &FOREIGN_CITIES[i]
    }

    pub fn foreign_city_in(&mut self, country: &str) -> &'static ForeignCity {
        let options: Vec<&'static ForeignCity> = FOREIGN_CITIES
            .iter()
            .filter(|c| c.country == country)
            .collect();
        if options.is_empty() {
            return self.foreign_city();
        }
        options[self.rng.random_range(0..options.len())]
    }

    // ----- phones -----

    pub fn cn_mobile(&mut self) -> String {
        let prefix = self.pick(CN_MOBILE_PREFIXES);
        format!("+86{prefix}{}", digits(&mut self.rng, 8))
    }

    pub fn cn_landline(&mut self, city: &CnCity) -> String {
        let first = char::from(self.pick(CN_LANDLINE_FIRST));
        format!("+86{}{first}{}", city.area, digits(&mut self.rng, 7))
    }

    pub fn foreign_landline(&mut self, city: &ForeignCity) -> String {
        let prefix = self.pick(city.local_prefixes);
        let n = city.local_digits - prefix.len();
        let mut rest = digits(&mut self.rng, n);
        if city.country == "US" {
            // Exchanges ending in 00 or 11 are not assigned; 555 is for fiction.
            while rest.starts_with("00")
                || rest.starts_with("11")
                || (prefix == "5" && rest.starts_with("55"))
            {
                rest = digits(&mut self.rng, n);
            }
        }
        format!("+{}{}{prefix}{rest}", city.calling, city.area)
    }

    pub fn foreign_mobile(&mut self, city: &ForeignCity) -> String {
        match city.country {
            "DE" => {
                let (prefix, n) = self.pick(&[
                    ("151", 8),
                    ("152", 8),
                    ("157", 8),
                    ("170", 7),
                    ("171", 7),
                    ("172", 7),
                    ("176", 8),
                ]);
                format!("+49{prefix}{}", digits(&mut self.rng, n))
            }
            "GB" => {
                let prefix = self.pick(&["74", "75", "78"]);
                format!("+44{prefix}{}", digits(&mut self.rng, 8))
            }
            "JP" => {
                let prefix = self.pick(&["90", "80", "70"]);
                let first = char::from(b'1' + self.rng.random_range(0..9u8));
                format!("+81{prefix}{first}{}", digits(&mut self.rng, 7))
            }
            "SG" => {
                let prefix = self.pick(&[
                    "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93",
                    "94", "95", "96", "97", "98",
                ]);
                format!("+65{prefix}{}", digits(&mut self.rng, 6))
            }
            // North American mobiles share the landline plan.
            _ => self.foreign_landline(city),
        }
    }

    pub fn landline(&mut self, place: Place) -> String {
        match place {
            Place::Cn(c) => self.cn_landline(c),
            Place::Foreign(f) => self.foreign_landline(f),
        }
    }

    pub fn mobile(&mut self, place: Place) -> String {
        match place {
            Place::Cn(_) => self.cn_mobile(),
            Place::Foreign(f) => self.foreign_mobile(f),
        }
    }

    // ----- places -----

    pub fn street_address(&mut self, place: Place) -> Value {
        match place {
            Place::Cn(c) => {
                let (district, _) = self.pick(c.districts);
                let road = self.pick(CN_STREETS);
                let no = self.range(1, 999);
                let street = if self.chance(0.6) {
                    let building = self.pick(CN_BUILDINGS);
                    let tower = self.pick(&['A', 'B', 'C']);
                    let floor = self.range(2, 28);
                    let room = self.range(1, 20);
                    format!("{road}{no}号{building}{tower}座{floor}{room:02}室")
                } else {
                    format!("{road}{no}号")
                };
                let postal = format!("{}{:02}", c.postal, self.range(0, 99));
                address("CN", c.province, c.city, district, &street, &postal)
            }
            Place::Foreign(f) => {
                let district = if f.districts.is_empty() {
                    ""
                } else {
                    self.pick(f.districts)
                };
                let no = self.range(1, 400);
                let street = match f.country {
                    "DE" => format!("{} {no}", self.pick(f.streets)),
                    "JP" => {
                        let area = self.pick(JP_AREAS);
                        format!(
                            "{}-{}-{} {area}",
                            self.range(1, 6),
                            self.range(1, 20),
                            self.range(1, 30)
                        )
                    }
                    "SG" => format!(
                        "{no} {} #{:02}-{:02}",
                        self.pick(f.streets),
                        self.range(2, 40),
                        self.range(1, 30)
                    ),
                    "US" => {
                        let s = self.pick(f.streets);
                        if self.chance(0.5) {
                            format!("{no} {s}, Suite {}", self.range(100, 2000))
                        } else {
                            format!("{no} {s}")
                        }
                    }
                    _ => format!("{no} {}", self.pick(f.streets)),
                };
                let postal = self.pick(f.postal_codes);
                address(f.country, f.state, f.city, district, &street, postal)
            }
        }
    }

    // ----- people -----

    pub fn chinese_person(&mut self) -> Person {
        let family = self.pick_weighted(CN_SURNAMES).to_string();
        let female = self.chance(0.5);
        let given = match (female, self.range(0, 9)) {
            (false, 0..=3) => self.pick(CN_MALE_1).to_string(),
            (true, 0..=3) => self.pick(CN_FEMALE_1).to_string(),
            (false, 4..=6) => self.pick(CN_MALE_2).to_string(),
            (true, 4..=6) => self.pick(CN_FEMALE_2).to_string(),
            (false, _) => format!("{}{}", self.pick(CN_MALE_1), self.pick(CN_MALE_1)),
            (true, _) => format!("{}{}", self.pick(CN_FEMALE_1), self.pick(CN_FEMALE_1)),
        };
        Person::chinese(&family, &given, female)
    }

    pub fn foreign_person(&mut self, country: &str) -> Person {
        let female = self.chance(0.5);
        match country {
            "DE" => {
                let given = if female {
                    self.pick(DE_FEMALE)
                } else {
                    self.pick(DE_MALE)
                };
                Person::latin(self.pick(DE_LAST), given, female)
            }
            "JP" => {
                let (family, family_r) = self.pick(JP_FAMILY);
                let (given, given_r) = if female {
                    self.pick(JP_FEMALE)
                } else {
                    self.pick(JP_MALE)
                };
                Person {
                    family: family.into(),
                    given: given.into(),
                    female,
                    mail_family: family_r.into(),
                    mail_given: given_r.into(),
                    chinese: false,
                }
            }
            "SG" => {
                let given = if female {
                    self.pick(SG_FEMALE)
                } else {
                    self.pick(SG_MALE)
                };
                Person::latin(self.pick(SG_FAMILY), given, female)
            }
            _ => {
                let given = if female {
                    self.pick(EN_FEMALE)
                } else {
                    self.pick(EN_MALE)
                };
                Person::latin(self.pick(EN_LAST), given, female)
            }
        }
    }

    pub fn person_for(&mut self, place: Place) -> Person {
        match place {
            Place::Cn(_) => self.chinese_person(),
            Place::Foreign(f) => self.foreign_person(f.country),
        }
    }

    /// A work e-mail address at `domain`, in one of the usual patterns.
    pub fn work_email(&mut self, p: &Person, domain: &str) -> String {
        let (f, g) = (&p.mail_family, &p.mail_given);
        let initials: String = p.given_initials();
        let local = match self.range(0, 3) {
            0 => format!("{g}.{f}"),
            1 if p.chinese => format!("{f}{g}"),
            1 => format!("{}.{f}", g.chars().next().unwrap_or('x')),
            2 if p.chinese => format!("{f}{initials}"),
            2 => format!("{g}{f}"),
            _ => format!("{f}.{g}"),
        };
        format!("{local}@{domain}")
    }

    pub fn personal_email(&mut self, p: &Person) -> String {
        if p.chinese {
            match self.range(0, 2) {
                0 => format!("{}@qq.com", self.range(10_000_000, 2_999_999_999)),
                _ => {
                    let host = self.pick(PUBLIC_CN_MAIL);
                    format!(
                        "{}{}{}@{host}",
                        p.mail_family,
                        p.mail_given,
                        self.range(1, 999)
                    )
                }
            }
        } else {
            let host = self.pick(PUBLIC_INTL_MAIL);
            format!(
                "{}.{}{}@{host}",
                p.mail_given,
                p.mail_family,
                self.range(1, 99)
            )
        }
    }

    fn wechat_id(&mut self, p: &Person) -> String {
        if self.chance(0.5) {
            const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
            let tail: String = (0..12).map(|_| char::from(self.pick(ALNUM))).collect();
            format!("wxid_{tail}")
        } else {
            format!("{}{}{}", p.mail_family, p.mail_given, self.range(10, 9999))
        }
    }

    // ----- accounts -----

    fn employees(&mut self) -> u64 {
        // Log-uniform between 5 and 20,000: many small companies, a few large ones.
        let x: f64 = self.rng.random_range(0.0..1.0);
        (5.0 * 4000f64.powf(x)).round() as u64
    }

    fn revenue(&mut self, employees: u64, place: Place) -> Value {
        let per_head_cny = self.range(150_000, 1_500_000) as f64;
        let amount = employees as f64 * per_head_cny * place.per_cny();
        let whole = ((amount / 10_000.0).round() as i64).max(1) * 10_000;
        let currency = place.currency();
        let minor = whole * 10i64.pow(money::minor_digits(currency));
        money::to_json(minor, currency)
    }

    fn account_type(&mut self) -> &'static str {
        self.pick_weighted(&[
            ("customer", 45),
            ("prospect", 30),
            ("partner", 8),
            ("reseller", 7),
            ("competitor", 5),
            ("other", 5),
        ])
    }

    fn rating(&mut self) -> Value {
        match self.range(0, 9) {
            0..=2 => json!("hot"),
            3..=5 => json!("warm"),
            6..=7 => json!("cold"),
            _ => Value::Null,
        }
    }

    /// Where a record came from: the Chinese name of one of [`SOURCES`].
    fn source(&mut self) -> Value {
        let weights: Vec<(&str, u32)> = SOURCES.iter().map(|(_, zh, w)| (*zh, *w)).collect();
        json!(self.pick_weighted(&weights))
    }

    fn brand(&mut self) -> String {
        let a = self.pick(BRAND_CHARS);
        let mut b = self.pick(BRAND_CHARS);
        while b == a {
            b = self.pick(BRAND_CHARS);
        }
        format!("{a}{b}")
    }

    /// A Chinese company name (城市 + 字号 + 行业 + 组织形式), its trade and its domain.
    fn cn_company(
        &mut self,
        city: &CnCity,
        brand: Option<&str>,
        trade_word: Option<&str>,
    ) -> (String, &'static Trade, String) {
        let brand = brand.map(str::to_string).unwrap_or_else(|| self.brand());
        let t = trade_word
            .and_then(|w| TRADES.iter().find(|t| t.word == w))
            .unwrap_or_else(|| &TRADES[self.rng.random_range(0..TRADES.len())]);
        let suffix = self.pick_weighted(CN_SUFFIXES);
        let name = format!("{}{brand}{}{suffix}", city.short, t.word);
        let py = pinyin_of(&brand);
        let domain = match self.range(0, 3) {
            0 | 1 => format!("{py}.com.cn"),
            2 => format!("{py}{}.com", t.en),
            _ => format!("{}{py}.cn", city.pinyin),
        };
        (name, t, domain)
    }

    /// A foreign company name (`Acme Robotics GmbH`), its industry and its domain.
    fn foreign_company(
        &mut self,
        city: &ForeignCity,
        brand: Option<&str>,
        trade: Option<&str>,
    ) -> (String, &'static str, String) {
        let brand = brand.unwrap_or_else(|| self.pick(EN_BRANDS));
        let (word, industry) = trade
            .and_then(|w| EN_TRADES.iter().find(|(t, _)| *t == w).copied())
            .unwrap_or_else(|| self.pick(EN_TRADES));
        let (suffix, tld) = match city.country {
            "DE" => (self.pick(&["GmbH", "AG", "GmbH & Co. KG"]), "de"),
            "GB" => (self.pick(&["Ltd.", "PLC", "Ltd."]), "co.uk"),
            "JP" => (self.pick(&["Co., Ltd.", "K.K."]), "co.jp"),
            "SG" => ("Pte. Ltd.", "com.sg"),
            _ => (self.pick(&["Inc.", "LLC", "Corp."]), "com"),
        };
        let name = format!("{brand} {word} {suffix}");
        let b = ascii_fold(brand);
        let w = ascii_fold(word);
        let domain = if self.chance(0.5) {
            format!("{b}-{w}.{tld}")
        } else {
            format!("{b}{w}.{tld}")
        };
        (name, industry, domain)
    }

    fn foreign_tax_id(&mut self, country: &str) -> String {
        match country {
            "DE" => format!("DE{}", digits(&mut self.rng, 9)),
            "GB" => format!("GB{}", digits(&mut self.rng, 9)),
            "JP" => digits(&mut self.rng, 13),
            "SG" => format!(
                "20{}{}",
                digits(&mut self.rng, 7),
                char::from(b'A' + self.rng.random_range(0..26u8))
            ),
            _ => format!("{}-{}", digits(&mut self.rng, 2), digits(&mut self.rng, 7)),
        }
    }

    /// A company account in API shape. `brand` and `trade` pin the name for hand-picked demo
    /// records; `None` draws them.
    pub fn company_account(
        &mut self,
        place: Place,
        brand: Option<&str>,
        trade: Option<&str>,
    ) -> (Value, AccountInfo) {
        let (name, industry, domain, tax_id) = match place {
            Place::Cn(c) => {
                let (mut name, t, mut domain) = self.cn_company(c, brand, trade);
                if let Some(b) = brand {
                    // Hand-picked names read as given: 北京中太数据科技有限公司, zhongtai.com.cn.
                    name = format!("{}{b}{}有限公司", c.short, t.word);
                    domain = format!("{}.com.cn", pinyin_of(b));
                }
                let (_, division) = self.pick(c.districts);
                let tax = if self.chance(0.85) {
                    Value::String(uscc(&mut self.rng, division))
                } else {
                    Value::Null
                };
                (name, t.industry, domain, tax)
            }
            Place::Foreign(f) => {
                let (name, industry, domain) = self.foreign_company(f, brand, trade);
                let tax = if self.chance(0.6) {
                    Value::String(self.foreign_tax_id(f.country))
                } else {
                    Value::Null
                };
                (name, industry, domain, tax)
            }
        };
        self.company_account_named(place, name, industry, domain, tax_id)
    }

    /// A subsidiary of a Chinese group: `华信精密机械（苏州）有限公司`.
    pub fn cn_subsidiary(
        &mut self,
        brand: &str,
        trade: &str,
        city: &'static CnCity,
    ) -> (Value, AccountInfo) {
        let t = TRADES
            .iter()
            .find(|t| t.word == trade)
            .unwrap_or(&TRADES[0]);
        let name = format!("{brand}{}（{}）有限公司", t.word, city.short);
        let py = pinyin_of(brand);
        let domain = format!("{py}.com.cn");
        let (_, division) = self.pick(city.districts);
        let tax = Value::String(uscc(&mut self.rng, division));
        self.company_account_named(Place::Cn(city), name, t.industry, domain, tax)
    }

    fn company_account_named(
        &mut self,
        place: Place,
        name: String,
        industry: &str,
        domain: String,
        tax_id: Value,
    ) -> (Value, AccountInfo) {
        let chinese = matches!(place, Place::Cn(_));
        let employees = self.employees();
        let billing = self.street_address(place);
        let shipping = match self.range(0, 9) {
            0..=4 => billing.clone(),
            5..=6 => self.street_address(place),
            _ => address("", "", "", "", "", ""),
        };
        let mut phones = vec![labelled("number", &self.landline(place), "work")];
        if self.chance(0.3) {
            phones.push(labelled("number", &self.landline(place), "fax"));
        }
        let mailbox = if chinese {
            self.pick(&["info", "sales", "contact", "service", "market"])
        } else {
            self.pick(&["info", "sales", "contact", "hello"])
        };
        let emails = vec![labelled("address", &format!("{mailbox}@{domain}"), "work")];
        let website = if self.chance(0.8) {
            format!("https://www.{domain}")
        } else {
            format!("http://{domain}")
        };
        let description = if self.chance(0.35) {
            Value::String(
                if chinese {
                    self.pick(CN_ACCOUNT_NOTES)
                } else {
                    self.pick(EN_ACCOUNT_NOTES)
                }
                .to_string(),
            )
        } else {
            Value::Null
        };
        let revenue = if self.chance(0.8) {
            self.revenue(employees, place)
        } else {
            Value::Null
        };
        let v = json!({
            "kind": "company",
            "name": name,
            "tax_id": tax_id,
            "industry": industry,
            "type": self.account_type(),
            "rating": self.rating(),
            "source": self.source(),
            "website": website,
            "phones": phones,
            "emails": emails,
            "billing_address": billing,
            "shipping_address": shipping,
            "employees": employees,
            "annual_revenue": revenue,
            "description": description,
        });
        let info = AccountInfo {
            name,
            place,
            domain: Some(domain),
            company: true,
        };
        (v, info)
    }

    /// A private person as an account (个人客户).
    pub fn person_account(&mut self, place: Place) -> (Value, AccountInfo) {
        let p = self.person_for(place);
        let name = p.display();
        let email = self.personal_email(&p);
        let v = json!({
            "kind": "person",
            "name": name,
            "type": self.pick(&["customer", "prospect"]),
            "rating": self.rating(),
            "source": self.source(),
            "phones": [labelled("number", &self.mobile(place), "mobile")],
            "emails": [labelled("address", &email, "personal")],
            "billing_address": self.street_address(place),
        });
        let info = AccountInfo {
            name,
            place,
            domain: None,
            company: false,
        };
        (v, info)
    }

    /// A former name for a Chinese company that changed its trade.
    pub fn former_name(&mut self, info: &AccountInfo) -> Option<String> {
        let Place::Cn(c) = info.place else {
            return None;
        };
        let rest = info.name.strip_prefix(c.short)?;
        let brand: String = rest.chars().take(2).collect();
        let t = &TRADES[self.rng.random_range(0..TRADES.len())];
        let former = format!("{}{brand}{}有限公司", c.short, t.word);
        (former != info.name).then_some(former)
    }

    // ----- contacts -----

    /// Where a contact lives: at their account, or mostly in China without one.
    pub fn contact_place(&mut self, account: Option<&AccountInfo>) -> Place {
        match account {
            Some(a) => a.place,
            None if self.chance(0.8) => Place::Cn(self.cn_city()),
            None => Place::Foreign(self.foreign_city()),
        }
    }

    /// A contact in API shape for a given person.
    pub fn contact_with(
        &mut self,
        account: Option<&AccountInfo>,
        place: Place,
        p: &Person,
    ) -> Value {
        let latin = matches!(place, Place::Foreign(f) if f.country != "JP");
        let (title, department) = if matches!(place, Place::Cn(_)) {
            self.pick(CN_JOBS)
        } else {
            self.pick(EN_JOBS)
        };
        let mut emails = Vec::new();
        match account.and_then(|a| a.domain.as_deref()) {
            Some(d) => {
                let e = self.work_email(p, d);
                emails.push(labelled("address", &e, "work"));
                if self.chance(0.2) {
                    let e = self.personal_email(p);
                    emails.push(labelled("address", &e, "personal"));
                }
            }
            None => {
                let e = self.personal_email(p);
                emails.push(labelled("address", &e, "personal"));
            }
        }
        let mut phones = vec![labelled("number", &self.mobile(place), "mobile")];
        if account.is_some_and(|a| a.company) && self.chance(0.5) {
            phones.push(labelled("number", &self.landline(place), "work"));
        }
        let salutation = if latin || self.chance(0.3) {
            if p.female {
                json!("ms")
            } else {
                json!(self.pick(&["mr", "mr", "mr", "dr"]))
            }
        } else {
            Value::Null
        };
        let chinese = matches!(place, Place::Cn(_));
        let wechat = if chinese && self.chance(0.7) {
            Value::String(self.wechat_id(p))
        } else {
            Value::Null
        };
        let birthday = if self.chance(0.4) {
            Value::String(format!(
                "{}-{:02}-{:02}",
                self.range(1960, 2000),
                self.range(1, 12),
                self.range(1, 28)
            ))
        } else {
            Value::Null
        };
        let channel = if chinese {
            self.pick(&["wechat", "wechat", "phone", "email", "visit"])
        } else {
            self.pick(&["email", "email", "phone", "visit"])
        };
        let address = if account.is_none() || self.chance(0.3) {
            self.street_address(place)
        } else {
            address("", "", "", "", "", "")
        };
        let description = if self.chance(0.15) {
            Value::String(
                if chinese {
                    self.pick(CN_CONTACT_NOTES)
                } else {
                    self.pick(EN_CONTACT_NOTES)
                }
                .to_string(),
            )
        } else {
            Value::Null
        };
        json!({
            "family_name": p.family,
            "given_name": p.given,
            "salutation": salutation,
            "title": title,
            "department": department,
            "emails": emails,
            "phones": phones,
            "wechat_id": wechat,
            "birthday": birthday,
            "preferred_channel": channel,
            "do_not_call": self.chance(0.03),
            "do_not_email": self.chance(0.05),
            "address": address,
            "description": description,
        })
    }
}

impl Person {
    pub fn chinese(family: &str, given: &str, female: bool) -> Person {
        Person {
            family: family.into(),
            given: given.into(),
            female,
            mail_family: pinyin_of(family),
            mail_given: pinyin_of(given),
            chinese: true,
        }
    }

    pub(crate) fn latin(family: &str, given: &str, female: bool) -> Person {
        Person {
            family: family.into(),
            given: given.into(),
            female,
            mail_family: ascii_fold(family),
            mail_given: ascii_fold(given),
            chinese: false,
        }
    }

    /// The initials of the given name's pinyin syllables (`晓明` → `xm`).
    fn given_initials(&self) -> String {
        self.given
            .chars()
            .filter_map(|c| c.to_pinyin())
            .filter_map(|p| p.plain().chars().next())
            .collect()
    }

    /// The name as the record shows it in a Chinese context.
    pub fn display(&self) -> String {
        guanxi_core::areas::customers::contacts::display_name(&self.family, &self.given, "zh-CN")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
    use guanxi_core::normalize;
    use guanxi_core::records::values;
    use guanxi_core::settings::Settings;

    fn valid(n: &str) {
        assert_eq!(
            normalize::phone_e164(n, "CN").as_deref(),
            Ok(n),
            "{n} is not a valid phone number"
        );
    }

    #[test]
    fn phone_numbers_are_valid_e164() {
        let mut g = Gen::new(7);
        for c in CN_CITIES {
            for _ in 0..150 {
                valid(&g.cn_landline(c));
            }
        }
        for _ in 0..2000 {
            valid(&g.cn_mobile());
        }
        for c in FOREIGN_CITIES {
            for _ in 0..150 {
                valid(&g.foreign_landline(c));
                valid(&g.foreign_mobile(c));
            }
        }
    }

    #[test]
    fn credit_codes_pass_the_check_character() {
        let mut g = Gen::new(11);
        for c in CN_CITIES {
            for (_, division) in c.districts {
                let code = uscc(&mut g.rng, division);
                assert_eq!(code.len(), 18);
                assert_eq!(normalize::tax_id(&code).as_deref(), Ok(code.as_str()));
            }
        }
    }

    /// Generated records are already in the form the record service stores, phones included,
    /// but for the names of list rows.
    #[test]
    fn generated_records_are_canonical() {
        let settings = Settings::default();
        let mut g = Gen::new(3);
        let check = |def: &guanxi_core::EntityDef, v: &Value| {
            for (k, val) in v.as_object().into_iter().flatten() {
                // Names of list rows, which become references before writing (`lists`).
                if k == "source" || k == "industry" {
                    continue;
                }
                let f = def.field(k).unwrap_or_else(|| panic!("unknown field {k}"));
                let c = values::canonical(&f.kind, val, &settings)
                    .unwrap_or_else(|e| panic!("{k} = {val}: {e}"));
                assert_eq!(&c, val, "{k} is not canonical");
            }
        };
        for i in 0..400 {
            let place = if i % 4 == 0 {
                Place::Foreign(g.foreign_city())
            } else {
                Place::Cn(g.cn_city())
            };
            let (v, info) = if i % 10 == 0 {
                g.person_account(place)
            } else {
                g.company_account(place, None, None)
            };
            check(&ACCOUNTS, &v);
            let p = g.person_for(place);
            check(&CONTACTS, &g.contact_with(Some(&info), place, &p));
            let lone = g.contact_place(None);
            let p = g.person_for(lone);
            check(&CONTACTS, &g.contact_with(None, lone, &p));
        }
    }

    #[test]
    fn names_look_right() {
        let mut g = Gen::new(5);
        let c = CN_CITIES.iter().find(|c| c.short == "北京").unwrap();
        let (v, info) = g.company_account(Place::Cn(c), Some("中太"), Some("数据科技"));
        assert_eq!(info.name, "北京中太数据科技有限公司");
        assert_eq!(
            v["website"]
                .as_str()
                .unwrap()
                .split("://")
                .nth(1)
                .unwrap()
                .trim_start_matches("www."),
            "zhongtai.com.cn"
        );
        let (_, sub) = g.cn_subsidiary("华信", "精密机械", c);
        assert_eq!(sub.name, "华信精密机械（北京）有限公司");
        for _ in 0..200 {
            let p = g.chinese_person();
            let n = p.display().chars().count();
            assert!((2..=4).contains(&n), "{}", p.display());
            assert!(p.mail_family.chars().all(|c| c.is_ascii_lowercase()));
        }
        assert_eq!(pinyin_of("中太"), "zhongtai");
        assert_eq!(ascii_fold("Müller"), "mueller");
    }
}
