"""type-in-stages: text prices become integer cents in two revisions with a deploy between them.

0004 expands (price_cents added and filled, price kept), 0005 contracts (catch-up copy, NOT
NULL, price dropped). The check plays the releases: the 0003 release (price only) keeps
serving after 0004, during the rollout and after a rollback of the code; the 0004 release
writes both columns; the 0005 release writes price_cents only. Every price is compared as a
value, in cents or as text, never counted.
"""

from decimal import Decimal, InvalidOperation

from course.learner.checks import Fail, compare
from course.i18n import _

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
# Between 0004 and 0005 both releases serve. The 0003 release changes a price and adds a
# product, writing price only; the 0004 release does the same writing both columns.
OLD_CHANGES = {"Coffee": "13.75"}
OLD_ADDS = {"Honey": "6.40"}
NEW_CHANGES = {"Tea": "8.40"}
NEW_ADDS = {"Filter": "2.50"}
# After 0005, the 0005 release (price_cents only) changes a price and adds a product.
LAST_CHANGE = {"name": "Coffee", "price_cents": 1399}
LAST_ADD = {"name": "Scale", "price_cents": 2599}

OLD = _("the 0003 release (it reads and writes price only, and still serves during the rollout and after a rollback of the code)")
BOTH = _("the 0004 release (it reads price_cents and writes both columns)")


def cents(price: str) -> int:
    return int(Decimal(price) * 100)


def _old_release_reads(run, wanted: dict[str, int], when: str) -> None:
    """Every price as the 0003 release reads it: the column price, as text."""
    try:
        with run.quiet(_('{when}, {old} reading the prices').format(when=when, old=OLD)):
            shown = dict(run.rows(f"SELECT name, price FROM {run.quote('product')}"))
    except Fail as exc:
        raise Fail(_('{exc}. Keep price in the expand revision 0004; drop it in 0005, deployed once no '
                     '0003 release runs').format(exc=exc)) from None
    for name, value in wanted.items():
        text = shown.get(name)
        try:
            same = text is not None and Decimal(str(text)) * 100 == value
        except InvalidOperation:
            same = False
        if not same:
            raise Fail(_("{when}, {old} shows {name}'s price as {text!r}; it is {value} cents, '{value2:.2f}'").format(
                           when=when, old=OLD, name=name, text=text, value=value, value2=Decimal(value) / 100))


def _write(run, doing: str, sql: str, params: dict, advice: str) -> None:
    try:
        with run.quiet(doing):
            run.execute(sql, params)
    except Fail as exc:
        raise Fail(_("{exc}. {advice}").format(exc=exc, advice=advice)) from None


def _expect_cents(run, wanted: dict[str, int], when: str, *, contracted: bool) -> None:
    columns = run.columns("product")
    if "price_cents" not in columns:
        raise Fail(_('{when}, there is no column product.price_cents').format(when=when))
    found = dict(run.rows(f"SELECT name, price_cents FROM {run.quote('product')}"))
    for name, value in wanted.items():
        if name not in found:
            raise Fail(_('{when}, product {name} is gone').format(when=when, name=name))
        if found[name] != value:
            shown = "NULL" if found[name] is None else f"{found[name]} cents"
            was = f"{Decimal(value) / 100:.2f}"
            raise Fail(_("{when}, {name} costs {shown}; its price is '{was}', which is {value} cents").format(
                           when=when, name=name, shown=shown, was=was, value=value))
    if not contracted:
        return
    if "price" in columns:
        raise Fail(_('{when}, the old column product.price is still there: drop it once the values are '
                     'copied').format(when=when))
    if columns["price_cents"]["nullable"]:
        raise Fail(_('{when}, product.price_cents is still nullable; the model says NOT NULL').format(when=when))


def _expect_no_default(run, when: str) -> None:
    """The 0005 release always sends a price; a product without one must be refused, not given one."""
    product = run.quote("product")
    try:
        with run.quiet(_('inserting a product without a price')):
            run.execute(f"INSERT INTO {product} (name) VALUES ('Nothing')")
    except Fail:
        return
    stored = run.rows(f"SELECT price_cents FROM {product} WHERE name = 'Nothing'")[0][0]
    raise Fail(
        _('{when}, a product inserted without a price is stored with price_cents {stored!r}: '
          'the column still has a server default, so a forgotten price becomes a real one; drop'
          ' the default once the copy is done').format(when=when, stored=stored)
    )


def _expand_then_both_releases(run, wanted: dict[str, int], first: bool) -> None:
    """0004 applied: check the copy, then let both releases work on the schema."""
    when = _("after upgrading to 0004 (the expand step)") if first else _("after upgrading to 0004 (the expand step) again")
    _old_release_reads(run, wanted, when)
    _expect_cents(run, wanted, when, contracted=False)
    if not first:
        return
    product = run.quote("product")
    advice = _("In the expand step the 0003 release must still work: keep price, and leave price_cents nullable")
    for name, price in OLD_CHANGES.items():
        _write(run, _("{when}, {old} changing {name}'s price").format(when=when, old=OLD, name=name),
               f"UPDATE {product} SET price = :p WHERE name = :n", {"p": price, "n": name}, advice)
    for name, price in OLD_ADDS.items():
        _write(run, _('{when}, {old} adding the product {name}').format(when=when, old=OLD, name=name),
               f"INSERT INTO {product} (name, price) VALUES (:n, :p)", {"n": name, "p": price}, advice)
    for name, price in NEW_CHANGES.items():
        _write(run, _("{when}, {both} changing {name}'s price").format(when=when, both=BOTH, name=name),
               f"UPDATE {product} SET price = :p, price_cents = :c WHERE name = :n",
               {"p": price, "c": cents(price), "n": name}, "")
    for name, price in NEW_ADDS.items():
        _write(run, _('{when}, {both} adding the product {name}').format(when=when, both=BOTH, name=name),
               f"INSERT INTO {product} (name, price, price_cents) VALUES (:n, :p, :c)",
               {"n": name, "p": price, "c": cents(price)}, "")
    wanted |= {name: cents(price) for name, price in {**OLD_CHANGES, **OLD_ADDS, **NEW_CHANGES, **NEW_ADDS}.items()}
    # A rollback of the code alone: the 0003 release reads what both releases wrote.
    _old_release_reads(run, wanted, _('{when}, with both releases writing').format(when=when))


def check(run):
    run.upgrade("0003")
    before = run.snapshot()
    run.insert("product", PRODUCTS)
    wanted = {p["name"]: cents(p["price"]) for p in PRODUCTS}

    run.upgrade("0004", doing=_('upgrading to 0004 with 5 products in the table'))
    _expand_then_both_releases(run, wanted, first=True)
    expanded = run.snapshot()

    run.upgrade("0005", doing=_('upgrading to 0005 after both releases wrote prices'))
    when = _("after upgrading to 0005 (the contract step)")
    _expect_cents(run, wanted, when, contracted=True)
    run.expect_matches_models(when)
    _expect_no_default(run, when)

    # The 0005 release at work; then a rollback, all the way to 0003.
    product = run.quote("product")
    run.execute(f"UPDATE {product} SET price_cents = :c WHERE name = :n", {"c": LAST_CHANGE["price_cents"], "n": LAST_CHANGE["name"]})
    run.insert("product", [LAST_ADD])
    wanted |= {LAST_CHANGE["name"]: LAST_CHANGE["price_cents"], LAST_ADD["name"]: LAST_ADD["price_cents"]}

    run.downgrade("0004", doing=_("downgrading to 0004"))
    for problem in compare(expanded, run.snapshot(), what=_("downgrading to 0004")):
        raise Fail(problem)
    _old_release_reads(run, wanted, _('after downgrading to 0004'))
    run.downgrade("0003", doing=_("downgrading to 0003"))
    for problem in compare(before, run.snapshot(), what=_("downgrading to 0003")):
        raise Fail(problem)
    _old_release_reads(run, wanted, _('after downgrading to 0003'))

    # The 0003 release runs again and adds products; then 0004 and 0005 ship again.
    run.insert("product", MORE)
    wanted |= {p["name"]: cents(p["price"]) for p in MORE}
    run.upgrade("0004", doing=_("upgrading to 0004 again, with prices '0.1', '1000', '3.05' and '19.99' added"))
    _expand_then_both_releases(run, wanted, first=False)
    run.upgrade("0005", doing=_('upgrading to 0005 again'))
    _expect_cents(run, wanted, _("after upgrading to 0005 again (prices '0.1', '1000', '3.05' and '19.99' added)"), contracted=True)
    run.downgrade("0003", doing=_('downgrading to 0003 again'))
    _old_release_reads(run, wanted, _('after downgrading to 0003 again'))
    return (_("Every price became exact integer cents in two steps: the 0003 release kept working after the "
            "expand, the contract caught up with what it wrote, and the downgrades give the same amounts back."))
