"""type-in-stages: text prices become integer cents (new column, copy, switch, drop), exactly."""

from decimal import Decimal, InvalidOperation

from course.learner.checks import Fail, compare

# Prices as the 0003 release stored them: text with at most two decimals.
PRODUCTS = [
    {"id": 1, "name": "Coffee", "price": "12.50"},
    {"id": 2, "name": "Gum", "price": "0.29"},
    {"id": 3, "name": "Tea", "price": "7"},
    {"id": 4, "name": "Kettle", "price": "199.99"},
    {"id": 5, "name": "Mug", "price": "1.15"},
]
# A second dataset, added by the 0003 release after a downgrade: other ids, one decimal,
# no decimals and a large price, and values that floating point gets wrong (3.05 * 100 is
# 304.99999999999994).
MORE = [
    {"id": 101, "name": "Sugar", "price": "0.1"},
    {"id": 102, "name": "Espresso machine", "price": "1000"},
    {"id": 103, "name": "Biscuits", "price": "3.05"},
    {"id": 104, "name": "Teapot", "price": "19.99"},
]
# What the 0004 release does while it runs: changes a price and adds a product (no id).
CHANGED = {"name": "Coffee", "price_cents": 1399}
ADDED = {"name": "Filter", "price_cents": 250}


def cents(price: str) -> int:
    return int(Decimal(price) * 100)


def _expect_cents(run, wanted: dict[str, int], when: str) -> None:
    columns = run.columns("product")
    if "price_cents" not in columns:
        raise Fail(f"{when}, there is no column product.price_cents")
    found = dict(run.rows(f"SELECT name, price_cents FROM {run.quote('product')}"))
    for name, value in wanted.items():
        if name not in found:
            raise Fail(f"{when}, product {name} is gone")
        if found[name] != value:
            shown = "NULL" if found[name] is None else f"{found[name]} cents"
            was = f"{Decimal(value) / 100:.2f}"
            raise Fail(f"{when}, {name} costs {shown}; it cost '{was}' before, which is {value} cents")
    if "price" in columns:
        raise Fail(f"{when}, the old column product.price is still there: drop it once the values are copied")
    if columns["price_cents"]["nullable"]:
        raise Fail(f"{when}, product.price_cents is still nullable; the model says NOT NULL")


def _expect_no_default(run, when: str) -> None:
    """The 0004 release always sends a price; a product without one must be refused, not given one."""
    product = run.quote("product")
    try:
        with run.quiet("inserting a product without a price"):
            run.execute(f"INSERT INTO {product} (name) VALUES ('Nothing')")
    except Fail:
        return
    stored = run.rows(f"SELECT price_cents FROM {product} WHERE name = 'Nothing'")[0][0]
    raise Fail(
        f"{when}, a product inserted without a price is stored with price_cents {stored!r}: the column still "
        "has a server default, so a forgotten price becomes a real one; drop the default once the copy is done"
    )


def _expect_prices(run, wanted: dict[str, int], when: str) -> None:
    """The text prices after a downgrade: the same amounts, to the cent (format is free: '12.5')."""
    back = dict(run.rows(f"SELECT name, price FROM {run.quote('product')}"))
    for name, value in wanted.items():
        text = back.get(name)
        try:
            same = text is not None and Decimal(str(text)) * 100 == value
        except InvalidOperation:
            same = False
        if not same:
            raise Fail(f"{when}, {name}'s price is {text!r}; it was {value} cents, '{Decimal(value) / 100:.2f}'")


def check(run):
    run.upgrade("0003")
    before = run.snapshot()
    run.insert("product", PRODUCTS)
    run.upgrade("0004", doing="upgrading to 0004 with 5 products in the table")

    when = "after upgrading to 0004"
    wanted = {p["name"]: cents(p["price"]) for p in PRODUCTS}
    _expect_cents(run, wanted, when)
    run.expect_matches_models(when)
    _expect_no_default(run, when)

    # The 0004 release at work: a price changes, a product is added. A downgrade keeps both.
    product = run.quote("product")
    run.execute(f"UPDATE {product} SET price_cents = :c WHERE name = :n", {"c": CHANGED["price_cents"], "n": CHANGED["name"]})
    run.insert("product", [ADDED])
    wanted |= {CHANGED["name"]: CHANGED["price_cents"], ADDED["name"]: ADDED["price_cents"]}

    run.downgrade("0003")
    for problem in compare(before, run.snapshot(), what="downgrading to 0003"):
        raise Fail(problem)
    _expect_prices(run, wanted, "after downgrading to 0003")

    # The 0003 release runs again and adds products; then 0004 ships again.
    run.insert("product", MORE)
    wanted |= {p["name"]: cents(p["price"]) for p in MORE}
    run.upgrade("0004", doing="upgrading to 0004 again, with prices '0.1', '1000', '3.05' and '19.99' added")
    _expect_cents(run, wanted, "after upgrading to 0004 again (prices '0.1', '1000', '3.05' and '19.99' added)")
    run.downgrade("0003", doing="downgrading to 0003 again")
    _expect_prices(run, wanted, "after downgrading to 0003 again")
    return "Every price became exact integer cents, and the downgrade turns them back into the same amounts."
