"""Word lists and weights behind the demo data (inspection.demo); plain data, no logic."""
from __future__ import annotations


def _table(text: str) -> dict[str, list[str]]:
    """Parse `key: word word ...` lines into a dict of word lists."""
    out = {}
    for line in text.strip().splitlines():
        key, _, words = line.partition(":")
        out[key.strip()] = words.split()
    return out


# Share of all batches by top category, and the fail rate each should average
# (close to SAMR's published provincial figures: food ~2.5%, farm ~2%, drugs ~1%).
ROOT_SHARES = {"food": 0.65, "farm": 0.20, "industrial": 0.10, "drug": 0.05}
ROOT_FAIL = {"food": 0.025, "farm": 0.02, "industrial": 0.06, "drug": 0.01}

# Level-2 node: volume weight within its root, relative fail factor.
GROUPS = {k: (float(v[0]), float(v[1])) for k, v in _table("""
food.catering: 14 1.2
food.grain: 8 0.4
food.beverage: 8 0.9
food.condiment: 8 0.7
food.meat: 7 0.9
food.pastry: 6 1.0
food.alcohol: 5 0.5
food.vegetable: 4 1.3
food.edible_oil: 4 0.7
food.quick_frozen: 4 0.6
food.dairy: 3.5 0.15
food.soy: 3.5 1.1
food.aquatic: 3 1.3
food.tea: 3 0.4
food.nuts: 2.5 1.3
food.potato_puffed: 2 0.6
food.confectionery: 2 0.5
food.biscuit: 2 0.5
food.convenience: 2 0.7
food.starch: 1.5 1.2
food.fruit: 1.5 1.1
food.frozen_drink: 1.5 0.9
food.health: 1.5 0.2
food.infant_formula: 1.2 0.05
food.egg: 1 0.6
food.bee: 1 0.9
food.canned: 1 0.3
food.additive: 1 0.3
food.other: 1 1.0
food.sugar: 0.8 0.3
food.cocoa_coffee: 0.7 0.3
food.special_dietary: 0.6 0.1
food.fsmp: 0.2 0.05
farm.vegetable: 45 1.2
farm.livestock: 18 0.5
farm.aquatic: 15 1.3
farm.fruit: 12 0.7
farm.fresh_egg: 6 0.6
farm.legume: 2 0.5
farm.nuts_seeds: 2 0.8
drug.chemical: 50 0.5
drug.tcm_patent: 22 0.6
drug.tcm_pieces: 20 2.6
drug.excipient: 5 0.3
drug.biological: 3 0.2
industrial.consumer: 28 1.1
industrial.electrical: 22 1.0
industrial.building: 16 0.9
industrial.food_related: 10 0.6
industrial.machinery_safety: 10 1.3
industrial.petrochemical: 6 0.4
industrial.chemical: 4 0.7
industrial.agri_input: 4 1.0
""").items()}

# Leaf: share within its level-2 group (default 1), optional fail factor on top of the group's.
LEAVES = {k: (float(v[0]), float(v[1]) if len(v) > 1 else 1.0) for k, v in _table("""
food.catering.tableware: 3 2.2
food.catering.rice_flour: 4 0.8
food.catering.meat: 2 0.7
food.catering.condiment: 1.5 0.8
food.catering.beverage: 1.5 0.8
food.grain.rice: 3
food.grain.wheat_flour: 2
food.grain.dried_noodles: 2
food.grain.other: 3
food.beverage.packaged_water: 3 1.3
food.beverage.solid: 1.5
food.beverage.juice: 1.5
food.condiment.seasoning: 3
food.condiment.soy_sauce: 2
food.condiment.salt: 0.7 0.2
food.condiment.msg: 0.5 0.2
food.meat.cooked: 4 1.3
food.meat.cured: 2
food.meat.prepared: 1.5
food.pastry.pastry: 6
food.pastry.mooncake: 1
food.pastry.zongzi: 0.6
food.alcohol.baijiu: 2
food.alcohol.huangjiu: 2
food.alcohol.wine: 0.8
food.vegetable.pickled: 2
food.edible_oil.vegetable_oil: 4
food.edible_oil.animal_fat: 0.5
food.dairy.liquid_milk: 3
food.soy.non_fermented: 3 1.2
food.aquatic.dried: 2
food.tea.tea_leaves: 3
farm.vegetable.leafy: 8 0.85
farm.vegetable.solanaceous: 3
farm.vegetable.brassica: 2
farm.vegetable.cucurbit: 2 0.7
farm.vegetable.legume: 2 1.3
farm.vegetable.root_tuber: 2 0.8
farm.vegetable.allium: 1.5 1.6
farm.vegetable.mushroom: 1.5 0.6
farm.vegetable.aquatic: 0.6 0.6
farm.livestock.pork: 5 0.6
farm.livestock.poultry: 3 1.8
farm.livestock.beef: 1.5 0.8
farm.livestock.by_products: 1.5 1.2
farm.aquatic.freshwater_fish: 3 1.2
farm.aquatic.marine_fish: 2 0.6
farm.aquatic.shrimp: 1.5
farm.aquatic.shellfish: 1.5 1.2
farm.fruit.citrus: 2
farm.fruit.berry: 1 1.3
farm.fruit.tropical: 1.5
drug.chemical.tablet: 3
drug.chemical.capsule: 2
drug.chemical.injection: 2 0.6
drug.chemical.other: 1.5
industrial.consumer.textile_apparel: 2
industrial.consumer.toy: 1 1.3
industrial.consumer.children: 1 1.3
industrial.electrical.household_appliance: 2
industrial.electrical.plug_socket: 1.5 1.5
industrial.electrical.wire_cable: 1.5
industrial.building.cement: 0.8 0.4
industrial.machinery_safety.e_bike: 1.5 1.2
industrial.machinery_safety.helmet: 1 1.4
industrial.petrochemical.gasoline: 1.5
industrial.petrochemical.diesel: 1.5
""").items()}

# Province-wide monthly volume factors (Jan..Dec): the pre-Spring-Festival and Mid-Autumn
# campaigns, a lull in the Spring Festival and National Day holidays.
MONTH_FACTORS = (1.25, 0.8, 0.95, 1.0, 1.0, 1.05, 1.05, 1.05, 1.15, 0.85, 1.0, 1.15)

# Category prefix: factor outside the season, then month=factor in season.
SEASONS = {k: (float(v[0]), {int(m): float(f) for m, f in (w.split("=") for w in v[1:])})
           for k, v in _table("""
food.pastry.mooncake: 0 8=7 9=9
food.pastry.zongzi: 0.1 5=6 6=5
food.beverage: 1 6=1.5 7=1.8 8=1.7
food.catering.beverage: 0.8 6=1.5 7=1.8 8=1.6
food.frozen_drink: 0.4 5=1.5 6=2.5 7=3 8=2.5
food.quick_frozen: 1 1=1.6 12=1.3
food.meat.cured: 0.7 12=2 1=2.2
food.alcohol: 1 1=1.4 12=1.3 9=1.2
food.nuts: 1 1=1.6 12=1.4
food.confectionery: 1 1=1.6 12=1.3
food.tea.tea_leaves: 0.8 3=1.8 4=2.5 5=1.5
farm.aquatic.crab: 0.5 9=2.5 10=3 11=2.5
farm.fruit.melon: 0.4 6=2.5 7=3 8=2.5
farm.fruit.citrus: 0.7 11=2 12=2 1=1.8
farm.fruit.berry: 0.8 4=2 5=2 6=1.5
farm.livestock.mutton: 0.8 11=1.5 12=1.8 1=1.8
""").items()}

# Sampling volume by city (population and economy) and relative county weights within one.
CITY_WEIGHTS = {"330100": 22, "330200": 16, "330300": 15, "330700": 11, "331000": 10, "330600": 8.5,
                "330400": 8, "330500": 5, "331100": 3.2, "330800": 3.2, "330900": 2.5}
COUNTY_WEIGHTS = {"330109": 1.6, "330110": 1.4, "330106": 1.2, "330212": 1.6, "330282": 1.3,
                  "330281": 1.1, "330381": 1.3, "330382": 1.3, "330782": 1.8, "331081": 1.3,
                  "330681": 1.3, "330305": 0.3, "330922": 0.3, "330921": 0.5, "330127": 0.6,
                  "330328": 0.5, "330329": 0.5, "330727": 0.4, "331125": 0.4, "331126": 0.4,
                  "331127": 0.4}
# Where manufacturers of a kind cluster (county or city code prefix: extra weight).
HUBS = {"industrial.consumer.footwear": {"3303": 4},
        "industrial.electrical.plug_socket": {"330382": 6, "330282": 3},
        "industrial.electrical.wire_cable": {"330382": 5}, "industrial.electrical.household_appliance":
        {"330282": 4, "330281": 3}, "industrial.machinery_safety.e_bike": {"330784": 5, "3310": 2},
        "industrial.consumer.toy": {"331125": 8}, "industrial.consumer.textile_apparel": {"330603": 5},
        "industrial.consumer.stationery": {"330226": 4, "330782": 3}, "food.tea": {"330106": 4, "330523": 4},
        "food.alcohol": {"330602": 4, "330603": 3}, "food.pastry": {"3304": 2}}
# Out-of-province registrations (so the `local` flag varies): code, city for the name, weight.
OTHER_REGIONS = [("310100", "上海", 5), ("320100", "南京", 2), ("320500", "苏州", 3), ("340100", "合肥", 2),
                 ("360100", "南昌", 1), ("350200", "厦门", 1), ("440300", "深圳", 2), ("440600", "佛山", 2),
                 ("370200", "青岛", 1), ("150100", "呼和浩特", 1), ("510100", "成都", 1), ("410100", "郑州", 1)]

TRADE_FIRST = "鑫 恒 华 佳 永 盛 金 新 裕 康 天 宏 明 瑞 祥 福 润 嘉 富 丰 信 诚 兴 隆 泰 和 益 源 达 安 宝 德 顺 昌 广 鼎 汇 海 亿 中".split()
TRADE_SECOND = "源 丰 康 禾 盛 达 诚 泰 兴 利 和 美 鑫 佳 宇 邦 旺 乐 宏 德 隆 旭 远 辉 晟 祥 发 园 润 福".split()
# Place-flavoured trade names, by city (code prefix): used only by firms of that city.
TRADE_LOCAL = {"3301": ["西子", "钱江", "天目", "千岛"], "3302": ["甬江", "四明", "东钱"], "3303": ["瓯江", "雁荡", "楠溪"],
               "3304": ["南湖", "禾城"], "3305": ["太湖", "苕溪"], "3306": ["会稽", "越王", "鉴湖"], "3307": ["婺州", "双龙"],
               "3308": ["三衢", "江郎"], "3309": ["东海", "普陀"], "3310": ["天台", "括苍"], "3311": ["仙都", "括苍", "瓯江"]}
# Two-character combinations that are famous real companies or brands: never generated.
FAMOUS = {"华润", "永旺", "中兴", "达利", "安利", "顺丰", "德邦", "华丰", "恒源", "康美", "信达", "泰康", "中泰",
          "金发", "嘉禾", "天邦", "德康", "兴发"}
SURNAMES = "王 李 张 陈 刘 林 黄 吴 周 徐 朱 胡 金 潘 叶 郑 杨 方 蒋 何".split()
MARKETS = "城东 城西 城南 城北 中心 新华 人民路 菜篮子 东方 南门 江滨 解放路".split()

# Company-name words by maker kind (longest prefix wins); 合作社/个体 kinds set their own suffix.
NAME_WORDS = _table("""
food: 食品有限公司 食品有限公司 食品股份有限公司
food.dairy: 乳业有限公司 乳品有限公司
food.beverage: 饮品有限公司 饮料有限公司 食品饮料有限公司
food.grain: 粮油有限公司 米业有限公司 面业有限公司
food.edible_oil: 粮油有限公司 油脂有限公司
food.condiment: 酿造有限公司 调味品有限公司
food.alcohol: 酒业有限公司 酿酒有限公司 黄酒有限公司
food.meat: 肉类食品有限公司 肉制品有限公司
food.tea: 茶业有限公司 茶叶专业合作社
food.aquatic: 水产食品有限公司 海产品有限公司
food.bee: 蜂业有限公司 蜂产品有限公司
food.health: 生物科技有限公司 保健品有限公司
drug: 制药有限公司 药业有限公司 药业股份有限公司
drug.tcm_pieces: 中药饮片有限公司 国药有限公司
drug.excipient: 药用辅料有限公司
drug.biological: 生物制药有限公司
industrial: 实业有限公司 科技有限公司
industrial.electrical: 电器有限公司 电子有限公司 电器股份有限公司
industrial.electrical.wire_cable: 电线电缆有限公司 电缆有限公司
industrial.building: 建材有限公司 新型建材有限公司
industrial.building.rebar: 钢铁有限公司 特钢有限公司
industrial.building.cement: 水泥有限公司
industrial.building.coating: 涂料有限公司 化学建材有限公司
industrial.consumer.textile_apparel: 服饰有限公司 纺织有限公司 针织有限公司
industrial.consumer.footwear: 鞋业有限公司
industrial.consumer.toy: 玩具有限公司
industrial.consumer.stationery: 文具有限公司
industrial.consumer.furniture: 家具有限公司
industrial.consumer.children: 婴童用品有限公司 童车有限公司
industrial.machinery_safety: 安防科技有限公司 消防设备有限公司
industrial.machinery_safety.e_bike: 车业有限公司 电动车有限公司
industrial.machinery_safety.helmet: 安全防护用品有限公司 头盔有限公司
industrial.petrochemical: 石化有限公司 能源有限公司
industrial.chemical: 化工有限公司
industrial.agri_input: 农资有限公司 肥业有限公司
industrial.food_related: 包装材料有限公司 塑业有限公司 日化有限公司
farm.vegetable: 蔬菜专业合作社 农业开发有限公司 家庭农场
farm.livestock: 肉类食品有限公司 屠宰有限公司
farm.aquatic: 水产养殖专业合作社 水产有限公司
farm.fruit: 果蔬专业合作社 果业有限公司 家庭农场
farm.fresh_egg: 禽业专业合作社 蛋业有限公司
farm: 农业开发有限公司 生态农业有限公司
catering: 饭店 小吃店 餐饮管理有限公司 酒家 面馆
""")

PRODUCTS = _table("""
farm.vegetable.leafy: 菠菜 芹菜 油麦菜 普通白菜 大白菜 生菜 空心菜 茼蒿 苋菜
farm.vegetable.allium: 韭菜 葱 大蒜 洋葱 蒜薹
farm.vegetable.brassica: 结球甘蓝 花椰菜 青花菜 芥蓝 菜薹
farm.vegetable.solanaceous: 番茄 茄子 辣椒 甜椒
farm.vegetable.cucurbit: 黄瓜 冬瓜 南瓜 丝瓜 西葫芦 苦瓜
farm.vegetable.legume: 豇豆 菜豆 荷兰豆 毛豆 扁豆
farm.vegetable.root_tuber: 萝卜 胡萝卜 马铃薯 生姜 山药
farm.vegetable.aquatic: 莲藕 茭白 菱角 荸荠
farm.vegetable.mushroom: 香菇 平菇 金针菇 杏鲍菇
farm.vegetable.sprout: 绿豆芽 黄豆芽
farm.livestock.pork: 猪肉 猪前腿肉 猪后腿肉
farm.livestock.beef: 牛肉
farm.livestock.mutton: 羊肉
farm.livestock.poultry: 鸡肉 鸭肉 鹅肉 乌鸡
farm.livestock.by_products: 猪肝 猪肾 牛肝 鸡肝
farm.aquatic.freshwater_fish: 草鱼 鲫鱼 鲈鱼 鳊鱼 黄颡鱼 鳙鱼
farm.aquatic.marine_fish: 大黄鱼 带鱼 小黄鱼 鲳鱼
farm.aquatic.shrimp: 南美白对虾 基围虾 小龙虾
farm.aquatic.crab: 梭子蟹 河蟹 青蟹
farm.aquatic.shellfish: 花蛤 蛏子 牡蛎 泥蚶 贻贝
farm.aquatic.other: 甲鱼 牛蛙 鱿鱼 泥鳅
farm.fruit.citrus: 柑橘 脐橙 柚 椪柑
farm.fruit.pome: 苹果 梨 枇杷
farm.fruit.stone: 桃 李子 樱桃 枣
farm.fruit.berry: 葡萄 草莓 蓝莓 猕猴桃
farm.fruit.melon: 西瓜 甜瓜 哈密瓜
farm.fruit.tropical: 香蕉 杨梅 芒果 荔枝 火龙果
farm.fresh_egg: 鸡蛋 鸭蛋 鹌鹑蛋
farm.legume: 绿豆 红豆 黄豆 黑豆
farm.nuts_seeds: 生花生米 生核桃 生葵花籽 板栗
food.additive: 复配甜味剂 食品用香精 复配膨松剂
food.alcohol.baijiu: 浓香型白酒 清香型白酒 白酒
food.alcohol.beer: 啤酒 原浆啤酒 淡色啤酒
food.alcohol.huangjiu: 绍兴黄酒 花雕酒 加饭酒 元红酒
food.alcohol.wine: 干红葡萄酒 干白葡萄酒
food.alcohol.other: 杨梅酒 果酒 米酒 配制酒
food.aquatic.dried: 虾皮 鱿鱼干 鳗鲞 紫菜
food.aquatic.salted: 醉蟹 咸鱼 呛蟹
food.aquatic.surimi: 鱼丸 蟹味棒 鱼豆腐
food.bee.honey: 蜂蜜 洋槐蜂蜜 百花蜂蜜
food.beverage.carbonated: 可乐型汽水 柠檬味汽水 苏打汽水
food.beverage.juice: 橙汁饮料 杨梅汁 苹果汁 果蔬汁饮料
food.beverage.other: 植物饮料 风味饮料 运动饮料
food.beverage.packaged_water: 饮用纯净水 天然矿泉水 饮用天然水
food.beverage.protein: 核桃乳 杏仁露 豆奶 乳酸菌饮料
food.beverage.solid: 固体饮料 奶茶粉 蛋白固体饮料
food.beverage.tea: 绿茶饮料 乌龙茶饮料 冰红茶
food.biscuit: 苏打饼干 夹心饼干 曲奇饼干 韧性饼干
food.canned: 黄桃罐头 午餐肉罐头 糖水橘子罐头 八宝粥罐头
food.catering.beverage: 鲜榨果汁 自制奶茶 自制豆浆
food.catering.condiment: 火锅底料 自制调味料 辣椒油
food.catering.meat: 卤肉 酱鸭 白切鸡 卤鸭
food.catering.rice_flour: 馒头 包子 油条 米粉 发糕 年糕
food.catering.tableware: 复用餐饮具（碗） 复用餐饮具（盘） 复用餐饮具（筷子） 复用餐饮具（杯）
food.cocoa_coffee: 焙炒咖啡豆 咖啡粉 巧克力
food.condiment.cooking_wine: 调味料酒 黄酒型料酒
food.condiment.msg: 味精 谷氨酸钠
food.condiment.salt: 精制盐 低钠盐 海盐
food.condiment.sauce: 黄豆酱 甜面酱 辣椒酱 豆瓣酱
food.condiment.seasoning: 鸡精调味料 复合调味料 蚝油 鸡粉
food.condiment.soy_sauce: 酿造酱油 生抽 老抽
food.condiment.spices: 花椒 八角 桂皮 胡椒粉 辣椒粉
food.condiment.vinegar: 酿造食醋 香醋 米醋
food.confectionery: 硬质糖果 奶糖 果冻 凝胶糖果
food.convenience: 方便面 自热火锅 即食燕麦片 藕粉羹
food.dairy.liquid_milk: 纯牛奶 巴氏杀菌乳 风味发酵乳 调制乳
food.dairy.milk_powder: 全脂乳粉 中老年奶粉 调制乳粉
food.dairy.other: 奶酪 炼乳 稀奶油
food.edible_oil.animal_fat: 猪油 牛油
food.edible_oil.fat_products: 起酥油 植脂末
food.edible_oil.vegetable_oil: 菜籽油 大豆油 花生油 玉米油 山茶油 食用植物调和油
food.egg: 皮蛋 咸鸭蛋 卤蛋
food.fruit.candied: 话梅 果脯 陈皮 杨梅干
food.fruit.dried: 葡萄干 芒果干 红枣
food.frozen_drink: 冰淇淋 雪糕 冰棍
food.fsmp: 全营养配方食品 非全营养配方食品
food.grain.dried_noodles: 挂面 鸡蛋挂面 手工面
food.grain.other: 糯米粉 年糕 米粉 生湿面 玉米粉
food.grain.rice: 大米 粳米 籼米 糯米
food.grain.wheat_flour: 通用小麦粉 高筋小麦粉 低筋小麦粉
food.health: 维生素C咀嚼片 蛋白粉 鱼油软胶囊 灵芝孢子粉 铁皮石斛颗粒
food.infant_formula.infant: 婴儿配方乳粉（1段）
food.infant_formula.follow_on: 较大婴儿配方乳粉（2段）
food.infant_formula.toddler: 幼儿配方乳粉（3段）
food.meat.cooked: 酱鸭 酱牛肉 火腿肠 卤猪蹄 盐水鸭
food.meat.cured: 腊肉 咸肉 香肠 酱肉 火腿
food.meat.prepared: 调理肉串 腌制牛排 调理鸡翅
food.nuts: 炒瓜子 山核桃 开心果 炒花生 碧根果
food.other: 其他食品
food.pastry.mooncake: 苏式月饼 宁式月饼 广式月饼 五仁月饼 豆沙月饼
food.pastry.pastry: 蛋糕 面包 桃酥 绿豆糕 酥饼
food.pastry.zongzi: 鲜肉粽 蛋黄肉粽 豆沙粽
food.potato_puffed: 薯片 膨化玉米 锅巴
food.quick_frozen: 汤圆 速冻水饺 速冻馄饨 速冻包子
food.soy.fermented: 腐乳 豆豉 臭豆腐
food.soy.non_fermented: 豆腐 豆腐干 腐竹 千张
food.special_dietary.infant_canned: 婴幼儿果泥 婴幼儿肉泥
food.special_dietary.infant_cereal: 婴幼儿米粉 婴幼儿营养米粉
food.starch: 粉丝 粉条 藕粉 木薯淀粉
food.sugar: 白砂糖 绵白糖 红糖 冰糖
food.tea.substitute: 杭白菊 大麦茶 玫瑰花茶
food.tea.tea_leaves: 龙井茶 安吉白茶 绿茶 红茶 乌龙茶
food.vegetable.dried: 笋干 梅干菜 黄花菜 萝卜干
food.vegetable.mushroom: 干香菇 黑木耳 香菇酱
food.vegetable.pickled: 榨菜 雪菜 酸菜 泡菜
drug.biological: 人血白蛋白 重组人胰岛素注射液 破伤风抗毒素
drug.chemical.capsule: 阿莫西林胶囊 奥美拉唑肠溶胶囊 头孢氨苄胶囊 布洛芬缓释胶囊
drug.chemical.injection: 氯化钠注射液 葡萄糖注射液 注射用头孢曲松钠 维生素C注射液
drug.chemical.other: 复方氨酚烷胺颗粒 红霉素软膏 布洛芬混悬液 氯雷他定糖浆
drug.chemical.tablet: 阿司匹林肠溶片 盐酸二甲双胍片 硝苯地平缓释片 对乙酰氨基酚片 阿托伐他汀钙片
drug.excipient: 微晶纤维素 硬脂酸镁 羟丙甲纤维素 乳糖
drug.tcm_patent: 板蓝根颗粒 六味地黄丸 感冒灵颗粒 藿香正气水 复方丹参片
drug.tcm_pieces: 浙贝母 白术 杭白菊 延胡索 玄参 麦冬 黄芪 当归 党参 枸杞子
industrial.agri_input.fertilizer: 复合肥料 尿素 有机肥料 水溶肥料
industrial.agri_input.film: 聚乙烯吹塑农用地面覆盖薄膜 农用棚膜
industrial.building.cement: 普通硅酸盐水泥 复合硅酸盐水泥
industrial.building.ceramic_tile: 陶瓷砖 瓷质砖 釉面砖
industrial.building.coating: 内墙涂料 外墙涂料 木器涂料
industrial.building.rebar: 热轧带肋钢筋 热轧光圆钢筋
industrial.building.waterproofing: 弹性体改性沥青防水卷材 聚氨酯防水涂料
industrial.chemical.adhesive: 室内装饰装修用胶粘剂 白乳胶
industrial.chemical.hazardous: 工业硫酸 盐酸 次氯酸钠溶液
industrial.consumer.children: 儿童推车 儿童安全座椅 儿童自行车 儿童餐椅
industrial.consumer.footwear: 运动鞋 皮鞋 童鞋 休闲鞋
industrial.consumer.furniture: 办公椅 实木家具 板式家具 床垫
industrial.consumer.stationery: 中性笔 铅笔 橡皮擦 修正带
industrial.consumer.textile_apparel: 衬衫 针织内衣 童装 羽绒服 床上用品
industrial.consumer.toy: 塑胶玩具 毛绒玩具 电动玩具 木制玩具
industrial.electrical.household_appliance: 电热水壶 电饭锅 电吹风 电暖器 电磁灶
industrial.electrical.lighting: LED球泡灯 LED平板灯 台灯
industrial.electrical.plug_socket: 移动式插座 转换器 墙壁开关 墙壁插座
industrial.electrical.wire_cable: 聚氯乙烯绝缘电线 电力电缆
industrial.food_related.detergent: 餐具洗涤剂 果蔬洗涤剂
industrial.food_related.paper_packaging: 纸杯 纸碗 食品包装用纸
industrial.food_related.plastic_packaging: 保鲜膜 一次性塑料餐盒 食品包装袋
industrial.machinery_safety.e_bike: 电动自行车
industrial.machinery_safety.fire_product: 手提式干粉灭火器 消防水带 消防应急照明灯
industrial.machinery_safety.helmet: 电动自行车乘员头盔 安全帽
industrial.petrochemical.diesel: 0号车用柴油
industrial.petrochemical.gasoline: 92号车用汽油 95号车用汽油
industrial.petrochemical.urea_solution: 车用尿素水溶液
""")

# Failing test items by category prefix (longest prefix wins).
FAILED_ITEMS = _table("""
farm.vegetable: 毒死蜱 腐霉利 氧乐果 克百威 甲拌磷 啶虫脒 噻虫胺 镉(以Cd计) 铅(以Pb计) 灭蝇胺
farm.vegetable.allium: 腐霉利 毒死蜱 噻虫胺 甲拌磷 氯氟氰菊酯和高效氯氟氰菊酯
farm.vegetable.mushroom: 镉(以Cd计) 氯氰菊酯和高效氯氰菊酯 除虫脲
farm.vegetable.sprout: 4-氯苯氧乙酸钠 6-苄基腺嘌呤(6-BA) 亚硫酸盐
farm.livestock: 克伦特罗 莱克多巴胺 沙丁胺醇 恩诺沙星 氯霉素 磺胺类(总量)
farm.livestock.poultry: 恩诺沙星 氧氟沙星 尼卡巴嗪 磺胺类(总量) 甲氧苄啶
farm.aquatic: 恩诺沙星 孔雀石绿 呋喃唑酮代谢物 地西泮 氧氟沙星 镉(以Cd计)
farm.fruit: 毒死蜱 克百威 氧乐果 丙溴磷 苯醚甲环唑 三唑磷
farm.fresh_egg: 恩诺沙星 氟苯尼考 甲硝唑 地美硝唑
farm: 铅(以Pb计) 镉(以Cd计) 黄曲霉毒素B1 酸价 过氧化值
food: 菌落总数 大肠菌群 霉菌 苯甲酸及其钠盐(以苯甲酸计) 山梨酸及其钾盐(以山梨酸计) 脱氢乙酸及其钠盐(以脱氢乙酸计) 糖精钠(以糖精计) 甜蜜素(以环己基氨基磺酸计)
food.catering.tableware: 大肠菌群 阴离子合成洗涤剂(以十二烷基苯磺酸钠计)
food.catering: 大肠菌群 铝的残留量(干样品,以Al计) 亚硝酸盐(以亚硝酸钠计) 罂粟碱 苯甲酸及其钠盐(以苯甲酸计)
food.meat: 亚硝酸盐(以亚硝酸钠计) 菌落总数 大肠菌群 氯霉素 胭脂红 苯甲酸及其钠盐(以苯甲酸计)
food.beverage: 菌落总数 霉菌 酵母 甜蜜素(以环己基氨基磺酸计) 蛋白质
food.beverage.packaged_water: 铜绿假单胞菌 溴酸盐 亚硝酸盐(以NO2-计) 耗氧量(以O2计)
food.alcohol: 酒精度 甲醇 氰化物(以HCN计) 甜蜜素(以环己基氨基磺酸计) 总酸 氨基酸态氮
food.pastry: 菌落总数 霉菌 过氧化值(以脂肪计) 酸价(以脂肪计)(KOH) 脱氢乙酸及其钠盐(以脱氢乙酸计) 铝的残留量(干样品,以Al计)
food.condiment: 氨基酸态氮 苯甲酸及其钠盐(以苯甲酸计) 菌落总数 总酸(以乙酸计) 防腐剂混合使用时各自用量占其最大使用量的比例之和
food.grain: 黄曲霉毒素B1 镉(以Cd计) 脱氧雪腐镰刀菌烯醇 铝的残留量(干样品,以Al计)
food.edible_oil: 酸价(KOH) 过氧化值 苯并[a]芘 黄曲霉毒素B1 溶剂残留量
food.dairy: 蛋白质 菌落总数 大肠菌群 酸度 非脂乳固体
food.infant_formula: 蛋白质 维生素A 钙 亚油酸
food.nuts: 过氧化值(以脂肪计) 酸价(以脂肪计)(KOH) 霉菌 大肠菌群 二氧化硫残留量
food.vegetable: 二氧化硫残留量 苯甲酸及其钠盐(以苯甲酸计) 脱氢乙酸及其钠盐(以脱氢乙酸计) 亚硝酸盐(以NaNO2计)
food.tea: 联苯菊酯 吡虫啉 水胺硫磷 铅(以Pb计) 二氧化硫残留量
food.soy: 脱氢乙酸及其钠盐(以脱氢乙酸计) 苯甲酸及其钠盐(以苯甲酸计) 大肠菌群 铝的残留量(干样品,以Al计)
food.aquatic: 镉(以Cd计) N-二甲基亚硝胺 过氧化值(以脂肪计) 苯甲酸及其钠盐(以苯甲酸计)
food.fruit: 二氧化硫残留量 甜蜜素(以环己基氨基磺酸计) 糖精钠(以糖精计) 霉菌 柠檬黄 日落黄
food.starch: 铝的残留量(干样品,以Al计) 二氧化硫残留量 苯甲酸及其钠盐(以苯甲酸计)
food.health: 标志性成分 菌落总数 崩解时限
drug: 含量测定 溶出度 有关物质 性状 鉴别 微生物限度 装量差异 崩解时限
drug.chemical.injection: 可见异物 不溶性微粒 细菌内毒素 含量测定
drug.tcm_pieces: 性状 二氧化硫残留量 水分 总灰分 含量测定 浸出物 鉴别 黄曲霉毒素
drug.tcm_patent: 含量测定 微生物限度 水分 鉴别 装量差异
industrial: 标志 材料 结构
industrial.electrical: 标志和说明 对触及带电部件的防护 发热 泄漏电流和电气强度 结构 内部布线 电源连接和外部软线 爬电距离、电气间隙和穿通绝缘距离
industrial.electrical.wire_cable: 导体电阻 绝缘厚度 护套厚度 绝缘老化前拉断伸长率
industrial.electrical.lighting: 标记 防触电保护 骚扰电压 谐波电流
industrial.consumer.textile_apparel: 纤维含量 甲醛含量 pH值 耐摩擦色牢度 使用说明
industrial.consumer.toy: 小零件 可触及的锐利边缘 邻苯二甲酸酯 标识和使用说明
industrial.consumer.children: 小零件 可触及的锐利边缘 邻苯二甲酸酯 标识和使用说明
industrial.consumer.footwear: 耐折性能 剥离强度 外底耐磨性能
industrial.consumer.furniture: 甲醛释放量 稳定性 标识
industrial.consumer.stationery: 可迁移元素 标识 书写性能
industrial.building.cement: 3d抗压强度 细度 三氧化硫
industrial.building.rebar: 屈服强度 抗拉强度 重量偏差 最大力总延伸率
industrial.building.ceramic_tile: 吸水率 破坏强度 断裂模数
industrial.building.coating: 挥发性有机化合物(VOC)含量 游离甲醛 苯系物总和
industrial.building.waterproofing: 拉力 低温柔性 不透水性 耐热性
industrial.machinery_safety.e_bike: 整车质量 最高车速 脚踏骑行能力 电气安全 防篡改
industrial.machinery_safety.helmet: 吸收碰撞能量性能 耐穿透性能 佩戴装置强度
industrial.machinery_safety.fire_product: 灭火性能 喷射性能 充装密度
industrial.petrochemical: 硫含量 闪点(闭口) 十六烷值 研究法辛烷值 苯含量 尿素含量
industrial.food_related: 总迁移量 高锰酸钾消耗量 脱色试验 荧光性物质
industrial.chemical: 不挥发物含量 游离甲醛 总挥发性有机物
industrial.agri_input: 总养分 水溶性磷占有效磷百分率 缩二脲 标识
""")

# The few fails recorded with a reason instead of failing test items.
FAIL_REASONS = {
    "food": ["标签标识不符合GB 7718要求，详见检验报告", "复检维持初检不合格结论，详见复检报告"],
    "farm": ["复检维持初检不合格结论，详见复检报告"],
    "drug": ["包装标签不符合药品说明书和标签管理规定", "复验维持原检验结论"],
    "industrial": ["无正当理由拒绝监督抽查，依法认定为不合格", "企业无法提供产品合格证明，按不合格处理"],
}
# Shelf life (days) bounding how long before sampling a product was made (longest prefix wins).
SHELF_DAYS = {"food": 180, "food.dairy.liquid_milk": 20, "food.pastry": 25, "food.catering": 0,
              "food.quick_frozen": 150, "food.alcohol": 720, "food.tea": 300, "food.condiment": 360,
              "food.beverage.packaged_water": 90, "food.infant_formula": 300, "drug": 720,
              "industrial": 365}
STAGE_MIX = {"food": {"production": 0.28, "distribution": 0.52, "catering": 0.12, "online": 0.08},
             "farm": {"production": 0.30, "distribution": 0.60, "catering": 0.10},
             "drug": {"production": 0.30, "distribution": 0.70},
             "industrial": {"production": 0.55, "distribution": 0.38, "online": 0.07}}
# Relative fail risk by stage: retail, catering and online sellers fail more than factories.
STAGE_FAIL = {"production": 0.8, "distribution": 1.0, "catering": 1.3, "online": 1.4}

# Who samples ({city} is filled in) and which laboratories test, with report-number prefixes.
SAMPLERS = {
    "food": ["浙江省食品药品检验研究院", "{city}食品药品检验研究院", "{city}食品药品检验研究院",
             "浙江方圆检测集团股份有限公司", "浙江公正检验中心有限公司"],
    "farm": ["{city}食品药品检验研究院", "{city}农产品质量安全检测中心", "浙江省食品药品检验研究院"],
    "drug": ["浙江省药品监督管理局", "{city}市场监督管理局", "{city}市场监督管理局"],
    "industrial": ["浙江省质量科学研究院", "浙江省轻工业品质量检验研究院", "浙江方圆检测集团股份有限公司",
                   "{city}质量技术监督检测院"],
}
LABS = {
    "food": ["浙江省食品药品检验研究院", "{city}食品药品检验研究院", "浙江方圆检测集团股份有限公司",
             "浙江公正检验中心有限公司"],
    "farm": ["{city}食品药品检验研究院", "{city}农产品质量安全检测中心", "浙江省食品药品检验研究院"],
    "drug": ["浙江省食品药品检验研究院", "{city}食品药品检验研究院"],
    "industrial": ["浙江省质量科学研究院", "浙江省轻工业品质量检验研究院", "浙江方圆检测集团股份有限公司",
                   "{city}质量技术监督检测院"],
}
REPORT_PREFIX = {"food": "SP", "farm": "NP", "drug": "YP", "industrial": "CP"}
SAMPLE_PREFIX = {"food": "DC", "farm": "DC", "drug": "YC", "industrial": "CC"}
