"""type-in-stages: text prices become integer cents (new column, copy, switch, drop), exactly."""

from decimal import Decimal, InvalidOperation

from course.checks import Fail

PRODUCTS = [
    {"id": 1, "name": "Coffee", "price": "12.50"},
    {"id": 2, "name": "Gum", "price": "0.29"},
    {"id": 3, "name": "Tea", "price": "7"},
    {"id": 4, "name": "Kettle", "price": "199.99"},
    {"id": 5, "name": "Mug", "price": "1.15"},
]


def cents(price: str) -> int:
    return int(Decimal(price) * 100)


def check(run):
    product = run.quote("product")
    run.upgrade("0003")
    run.insert("product", PRODUCTS)
    run.upgrade("0004", doing="upgrading to 0004 with 5 products in the table")

    columns = run.columns("product")
    if "price_cents" not in columns:
        raise Fail("after upgrading to 0004, there is no column product.price_cents")
    found = {r[0]: r[1] for r in run.rows(f"SELECT id, price_cents FROM {product}")}
    for p in PRODUCTS:
        if p["id"] not in found:
            raise Fail(f"after upgrading to 0004, product {p['name']} is gone")
        value, wanted = found[p["id"]], cents(p["price"])
        if value != wanted:
            shown = "NULL" if value is None else f"{value} cents"
            raise Fail(
                f"after upgrading to 0004, {p['name']} costs {shown}; it cost '{p['price']}' before, "
                f"which is {wanted} cents"
            )
    if "price" in columns:
        raise Fail("after upgrading to 0004, the old column product.price is still there: drop it once the values are copied")
    if columns["price_cents"]["nullable"]:
        raise Fail("after upgrading to 0004, product.price_cents is still nullable; the model says NOT NULL")
    run.expect_matches_models("after upgrading to 0004")

    run.downgrade("0003")
    columns = run.columns("product")
    if "price_cents" in columns:
        raise Fail("downgrading to 0003 left column product.price_cents behind")
    if "price" not in columns:
        raise Fail("downgrading to 0003 did not bring back column product.price")
    back = {r[0]: r[1] for r in run.rows(f"SELECT id, price FROM {product}")}
    for p in PRODUCTS:
        text = back.get(p["id"])
        try:
            same = text is not None and Decimal(str(text)) == Decimal(p["price"])
        except InvalidOperation:
            same = False
        if not same:
            raise Fail(f"downgrading to 0003 turned {p['name']}'s price into {text!r}; it was '{p['price']}'")
    if columns["price"]["nullable"]:
        raise Fail("after downgrading to 0003, product.price allows NULL; at 0003 it was NOT NULL")
    run.upgrade("0004", doing="upgrading to 0004 again after the downgrade")
    return "Every price became exact integer cents, and the downgrade turns them back into text."
