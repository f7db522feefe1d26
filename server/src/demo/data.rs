//! Deterministic, realistic demo data written as Delta tables with `deltalake`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use deltalake::arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use deltalake::protocol::SaveMode;
use deltalake::DeltaTable;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{PortalError, Result};

pub const PARTNERS: &[&str] = &["P001", "P002", "P003"];
const COUNTRIES: &[&str] = &["DE", "FR", "NL", "SE", "PL", "IT"];
const PRODUCTS: &[(&str, &str, f64)] = &[
    ("0004001", "Organic oat drink 1 l", 1.99),
    ("0004002", "Espresso beans 1 kg", 14.49),
    ("0004003", "Dark chocolate 100 g", 2.29),
    ("0004004", "Sparkling water 6 x 1.5 l", 3.79),
    ("0004005", "Olive oil extra virgin 750 ml", 8.99),
    ("0004006", "Basmati rice 2 kg", 4.59),
    ("0004007", "Greek yoghurt 500 g", 2.49),
    ("0004008", "Müsli mit Früchten 750 g", 3.99),
];
const REASONS: &[&str] = &["damaged", "wrong item", "not as described", "changed mind", "late delivery"];

#[derive(Clone, Copy, Debug)]
pub enum DemoTable {
    Sales,
    Stock,
    Returns,
}

impl DemoTable {
    pub fn dir_name(self) -> &'static str {
        match self {
            Self::Sales => "sales",
            Self::Stock => "stock",
            Self::Returns => "returns",
        }
    }

    pub fn comment(self) -> &'static str {
        match self {
            Self::Sales => "Order lines sold through our stores and webshop, per partner",
            Self::Stock => "Units on hand per warehouse, latest snapshot",
            Self::Returns => "Customer returns with reason",
        }
    }

    /// Writes the table (several versions for sales and returns) and returns its version.
    pub async fn write(self, dir: &Path) -> Result<i64> {
        match self {
            Self::Sales => write_sales_versions(dir, 12_000, 1).await,
            Self::Stock => {
                let t = append(dir, stock(7), true).await?;
                Ok(t.version().unwrap_or(0) as i64)
            }
            Self::Returns => {
                append(dir, returns(3, 0), true).await?;
                let t = append(dir, returns(4, 1), true).await?;
                Ok(t.version().unwrap_or(0) as i64)
            }
        }
    }
}

/// Sales: version 0 with `rows_per_partner` order lines per partner, version 1 appends a
/// week more, version 2 deletes cancelled lines (which writes change-data files).
pub async fn write_sales_versions(dir: &Path, rows_per_partner: usize, files_per_partner: usize) -> Result<i64> {
    for chunk in 0..files_per_partner.max(1) {
        append(dir, sales(rows_per_partner / files_per_partner.max(1), chunk as u64, 0), true).await?;
    }
    append(dir, sales(rows_per_partner / 5, 99, 60), true).await?;
    let table = open(dir).await?;
    let (table, _) = table.delete().with_predicate("units = 0").await?;
    Ok(table.version().unwrap_or(0) as i64)
}

async fn open(dir: &Path) -> Result<DeltaTable> {
    std::fs::create_dir_all(dir)?;
    let url =
        url::Url::from_directory_path(dir.canonicalize()?).map_err(|_| PortalError::Internal(format!("bad path {}", dir.display())))?;
    Ok(DeltaTable::try_from_url(url).await?)
}

async fn append(dir: &Path, batch: RecordBatch, cdf: bool) -> Result<DeltaTable> {
    let table = open(dir).await?;
    let config = [("delta.enableChangeDataFeed", Some(if cdf { "true" } else { "false" }))];
    Ok(table.write(vec![batch]).with_save_mode(SaveMode::Append).with_partition_columns(["partner_id"]).with_configuration(config).await?)
}

fn day(d: i64) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let base = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap_or_default() + Duration::days(d);
    (base - epoch).num_days() as i32
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// A column with the comment partners read in the portal's data dictionary.
fn described(name: &str, data_type: DataType, nullable: bool, comment: &str) -> Field {
    Field::new(name, data_type, nullable).with_metadata(HashMap::from([("comment".to_string(), comment.to_string())]))
}

fn batch(fields: Vec<Field>, columns: Vec<ArrayRef>) -> RecordBatch {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("demo columns match their schema")
}

fn sales(rows_per_partner: usize, seed: u64, first_day: i64) -> RecordBatch {
    let mut rng = StdRng::seed_from_u64(seed * 7919 + 17);
    let n = rows_per_partner * PARTNERS.len();
    let (mut partner, mut order, mut date, mut sku, mut product, mut country, mut units, mut price, mut revenue, mut updated) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let p = PARTNERS[i % PARTNERS.len()];
        let (code, name, base) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        let d = first_day + rng.gen_range(0..60);
        // About one line in forty is cancelled (0 units); version 2 deletes those.
        let u: i64 = if rng.gen_ratio(1, 40) { 0 } else { rng.gen_range(1..24) };
        let unit_price = (base * rng.gen_range(0.9..1.1) * 100.0).round() / 100.0;
        partner.push(p);
        order.push(format!("SO-{seed:02}-{i:07}"));
        date.push(day(d));
        sku.push(code);
        // About one line in fifty is a delisted article without a name.
        product.push(if rng.gen_ratio(1, 50) { None } else { Some(name) });
        country.push(COUNTRIES[rng.gen_range(0..COUNTRIES.len())]);
        units.push(u);
        price.push(unit_price);
        revenue.push((unit_price * u as f64 * 100.0).round() / 100.0);
        updated.push((i64::from(day(d)) * 86_400 + rng.gen_range(28_800..72_000)) * 1_000_000);
    }
    batch(
        vec![
            described("partner_id", DataType::Utf8, false, "Partner the line belongs to (your id)"),
            described("order_id", DataType::Utf8, false, "Order number; one order has several lines"),
            described("order_date", DataType::Date32, false, "Day the order was placed"),
            described("sku", DataType::Utf8, false, "Our article number (text: keep the leading zeros)"),
            described("product", DataType::Utf8, true, "Product name as on the shelf; empty when the article was delisted"),
            described("country", DataType::Utf8, true, "Country of the store or webshop (ISO 3166 code)"),
            described("units", DataType::Int64, false, "Units sold; 0 for a cancelled line"),
            described("unit_price", DataType::Float64, true, "Price per unit in EUR, VAT excluded"),
            described("revenue", DataType::Float64, true, "units × unit_price, in EUR"),
            described("updated_at", utc_micros(), true, "When the line was last changed (UTC)"),
        ],
        vec![
            Arc::new(StringArray::from(partner)),
            Arc::new(StringArray::from(order)),
            Arc::new(Date32Array::from(date)),
            Arc::new(StringArray::from(sku)),
            Arc::new(StringArray::from(product)),
            Arc::new(StringArray::from(country)),
            Arc::new(Int64Array::from(units)),
            Arc::new(Float64Array::from(price)),
            Arc::new(Float64Array::from(revenue)),
            Arc::new(TimestampMicrosecondArray::from(updated).with_timezone("UTC")),
        ],
    )
}

fn stock(seed: u64) -> RecordBatch {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut partner, mut sku, mut warehouse, mut on_hand, mut snapshot) = (vec![], vec![], vec![], vec![], vec![]);
    for p in PARTNERS {
        for (code, ..) in PRODUCTS {
            for w in ["Berlin-North", "Lyon-East", "Rotterdam-Port", "Malmö-South", "Poznań-West"] {
                partner.push(*p);
                sku.push(*code);
                warehouse.push(w);
                on_hand.push(rng.gen_range(0..5_000i64));
                snapshot.push(day(90));
            }
        }
    }
    batch(
        vec![
            described("partner_id", DataType::Utf8, false, "Partner the stock belongs to (your id)"),
            described("sku", DataType::Utf8, false, "Our article number"),
            described("warehouse", DataType::Utf8, false, "Warehouse holding the units"),
            described("on_hand", DataType::Int64, false, "Units on hand at the snapshot"),
            described("snapshot_date", DataType::Date32, false, "Day of the stock count"),
        ],
        vec![
            Arc::new(StringArray::from(partner)),
            Arc::new(StringArray::from(sku)),
            Arc::new(StringArray::from(warehouse)),
            Arc::new(Int64Array::from(on_hand)),
            Arc::new(Date32Array::from(snapshot)),
        ],
    )
}

fn returns(seed: u64, batch_no: usize) -> RecordBatch {
    let mut rng = StdRng::seed_from_u64(seed);
    let per_partner = 1_500;
    let (mut partner, mut id, mut order, mut sku, mut reason, mut units, mut at) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for i in 0..per_partner * PARTNERS.len() {
        partner.push(PARTNERS[i % PARTNERS.len()]);
        id.push(format!("RT-{batch_no}-{i:06}"));
        order.push(format!("SO-00-{:07}", rng.gen_range(0..30_000)));
        sku.push(PRODUCTS[rng.gen_range(0..PRODUCTS.len())].0);
        reason.push(REASONS[rng.gen_range(0..REASONS.len())]);
        units.push(rng.gen_range(1..4i64));
        at.push((i64::from(day(rng.gen_range(0..90))) * 86_400 + rng.gen_range(0..86_400)) * 1_000_000);
    }
    batch(
        vec![
            described("partner_id", DataType::Utf8, false, "Partner the return belongs to (your id)"),
            described("return_id", DataType::Utf8, false, "Return number"),
            described("order_id", DataType::Utf8, false, "Order the returned units came from"),
            described("sku", DataType::Utf8, false, "Our article number"),
            described("reason", DataType::Utf8, true, "Reason the customer gave"),
            described("units", DataType::Int64, false, "Units returned"),
            described("returned_at", utc_micros(), true, "When the return was booked (UTC)"),
        ],
        vec![
            Arc::new(StringArray::from(partner)),
            Arc::new(StringArray::from(id)),
            Arc::new(StringArray::from(order)),
            Arc::new(StringArray::from(sku)),
            Arc::new(StringArray::from(reason)),
            Arc::new(Int64Array::from(units)),
            Arc::new(TimestampMicrosecondArray::from(at).with_timezone("UTC")),
        ],
    )
}
