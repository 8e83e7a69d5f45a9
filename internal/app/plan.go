package app

import (
	"fmt"
	"slices"
	"time"
)

// PlanBusiness is the plan above Pro (PlanFree and PlanPro are in
// workspace.go, where the plan column began).
const PlanBusiness = "business"

// Interval is how often a price bills, in Stripe's words.
type Interval string

// Billing intervals.
const (
	Monthly Interval = "month"
	Annual  Interval = "year"
)

// Pricing is how a plan's price is counted.
type Pricing string

// Pricing models.
const (
	// PricingFlat bills one quantity per workspace, whatever its size.
	PricingFlat Pricing = "flat"
	// PricingPerSeat bills the workspace's billable seats (its members;
	// pending invites do not count until they are accepted).
	PricingPerSeat Pricing = "per_seat"
)

// Feature is something a plan may include. CanUse is the one check.
type Feature string

// Features.
const (
	// FeatureSSO is workspace single sign-on: the workspace's own OpenID
	// Connect provider, verified domains, and requiring it.
	FeatureSSO Feature = "sso"
	// FeatureAuditExport is downloading the audit log as CSV or JSON.
	FeatureAuditExport Feature = "audit_export"
)

// Features lists every feature in the order pricing pages show them.
var Features = []Feature{FeatureSSO, FeatureAuditExport}

// FeatureName is a feature as the pricing page words it.
func FeatureName(f Feature) string {
	switch f {
	case FeatureSSO:
		return "Single sign-on (OpenID Connect) and verified domains"
	case FeatureAuditExport:
		return "Audit log export (CSV and JSON)"
	}
	return string(f)
}

// Price is one Stripe price of a plan.
type Price struct {
	// ID is the Stripe price (price_…); empty means the plan is not sold
	// at this interval.
	ID       string
	Interval Interval
	// Currency and Amount are what the catalog says the price is: Amount
	// in the currency's smallest unit, per seat for a per-seat plan.
	// `atrium check-config` and `atrium doctor` compare them with Stripe.
	Currency string
	Amount   int64
}

// Plan is one entry of the catalog: what it costs and what it allows.
type Plan struct {
	Key     string // stored in workspaces.plan
	Name    string // "Pro"
	Summary string // one sentence for the pricing page
	Pricing Pricing
	Monthly Price
	Annual  Price
	// Seats is the most seats (members and pending invites) a workspace on
	// the plan may use; 0 means no cap. A per-seat plan bills each seat.
	Seats int
	// APIRate is the requests per minute each API key of the workspace
	// may make.
	APIRate int
	// AuditDays is how far back the audit log is shown and exported; 0
	// means all of it. Older entries are kept (the hash chain stays
	// whole), only hidden.
	AuditDays int
	Features  []Feature
}

// Paid reports whether the plan is sold through Stripe.
func (p Plan) Paid() bool { return p.Key != PlanFree }

// Sold reports whether the plan has a Stripe price at some interval.
func (p Plan) Sold() bool { return p.Monthly.ID != "" || p.Annual.ID != "" }

// Price returns the plan's price at iv (empty ID when not sold at it).
func (p Plan) Price(iv Interval) Price {
	if iv == Annual {
		return p.Annual
	}
	return p.Monthly
}

// Includes reports whether the plan includes f.
func (p Plan) Includes(f Feature) bool { return slices.Contains(p.Features, f) }

// Catalog is the one list of plans: what every entitlement check reads,
// the pricing page renders, and the configuration checks hold against
// Stripe. Plans run from Free up; Free is always first.
type Catalog struct {
	Plans []Plan
	// TrialDays is the length of a new subscription's trial; 0 means none.
	TrialDays int
	// TrialNeedsCard asks for a payment method when the trial starts;
	// without it a trial that ends with none falls back to Free.
	TrialNeedsCard bool
	// GracePeriod is how long a past-due workspace keeps working before
	// additions are refused (dunning).
	GracePeriod time.Duration
	// NoUpgrade words limit messages for a server that sells no plan
	// (production without billing): they do not suggest an upgrade.
	NoUpgrade bool
}

// CatalogConfig is what the environment says about the plans.
type CatalogConfig struct {
	Currency                            string // lower-case ISO 4217, "usd"
	FreeSeats, ProSeats, BusinessSeats  int
	ProMonthly, ProAnnual               string // Stripe price ids
	BusinessMonthly, BusinessAnnual     string
	FreeAPIRate, ProAPIRate, BusAPIRate int
	TrialDays                           int
	TrialNeedsCard                      bool
	GracePeriod                         time.Duration
	NoUpgrade                           bool
	ProMonthlyAmount, ProAnnualAmount   int64 // smallest currency unit, per seat
	BusMonthlyAmount, BusAnnualAmount   int64
}

// NewCatalog returns Atrium's plans. A fork changes its plans here: the
// names, what each includes and the amounts shown; the environment gives
// the Stripe price ids and the seat caps.
func NewCatalog(c CatalogConfig) *Catalog {
	price := func(id string, iv Interval, amount int64) Price {
		return Price{ID: id, Interval: iv, Currency: c.Currency, Amount: amount}
	}
	return &Catalog{
		Plans: []Plan{
			{Key: PlanFree, Name: "Free", Summary: "For a small team trying Atrium out.", Pricing: PricingFlat,
				Seats: c.FreeSeats, APIRate: c.FreeAPIRate, AuditDays: 30},
			{Key: PlanPro, Name: "Pro", Summary: "For growing teams: as many seats as you need, single sign-on and exports.",
				Pricing: PricingPerSeat, Seats: c.ProSeats, APIRate: c.ProAPIRate, AuditDays: 365,
				Monthly: price(c.ProMonthly, Monthly, c.ProMonthlyAmount), Annual: price(c.ProAnnual, Annual, c.ProAnnualAmount),
				Features: []Feature{FeatureSSO, FeatureAuditExport}},
			{Key: PlanBusiness, Name: "Business", Summary: "For organisations: the whole audit history and the highest API limits.",
				Pricing: PricingPerSeat, Seats: c.BusinessSeats, APIRate: c.BusAPIRate, AuditDays: 0,
				Monthly: price(c.BusinessMonthly, Monthly, c.BusMonthlyAmount), Annual: price(c.BusinessAnnual, Annual, c.BusAnnualAmount),
				Features: []Feature{FeatureSSO, FeatureAuditExport}},
		},
		TrialDays:      c.TrialDays,
		TrialNeedsCard: c.TrialNeedsCard,
		GracePeriod:    c.GracePeriod,
		NoUpgrade:      c.NoUpgrade,
	}
}

// Plan returns the plan with key, or false.
func (c *Catalog) Plan(key string) (Plan, bool) {
	for _, p := range c.Plans {
		if p.Key == key {
			return p, true
		}
	}
	return Plan{}, false
}

// Free returns the free plan.
func (c *Catalog) Free() Plan { return c.Plans[0] }

// ForPrice returns the plan and interval a Stripe price belongs to.
func (c *Catalog) ForPrice(priceID string) (Plan, Interval, bool) {
	if priceID == "" {
		return Plan{}, "", false
	}
	for _, p := range c.Plans {
		for _, pr := range []Price{p.Monthly, p.Annual} {
			if pr.ID == priceID {
				return p, pr.Interval, true
			}
		}
	}
	return Plan{}, "", false
}

// PlanForPrice returns the key of the plan a subscription to priceID
// grants. A price the catalog does not list (one made before the catalog
// had it, or removed from it since) grants Pro, so a paying customer never
// loses access to a configuration change; doctor reports it.
func (c *Catalog) PlanForPrice(priceID string) string {
	if p, _, ok := c.ForPrice(priceID); ok && p.Paid() {
		return p.Key
	}
	return PlanPro
}

// Effective returns the plan in force for ws: its paid plan while the
// subscription is in good standing (active, trialing or past due) or set
// without one (by an operator or the seed), Free otherwise.
func (c *Catalog) Effective(ws *Workspace) Plan {
	if ws.Plan != PlanFree && (ProStatus(ws.SubscriptionStatus) || ws.SubscriptionStatus == "") {
		if p, ok := c.Plan(ws.Plan); ok {
			return p
		}
	}
	return c.Free()
}

// CanUse reports whether ws's plan in force includes f.
func (c *Catalog) CanUse(ws *Workspace, f Feature) bool { return c.Effective(ws).Includes(f) }

// Limits returns the seat rule of the catalog.
func (c *Catalog) Limits() PlanLimits {
	l := PlanLimits{FreeSeats: c.Free().Seats, NoUpgrade: c.NoUpgrade}
	if p, ok := c.Plan(PlanPro); ok {
		l.ProSeats = p.Seats
	}
	if p, ok := c.Plan(PlanBusiness); ok {
		l.BusinessSeats = p.Seats
	}
	return l
}

// Upgrades reports whether moving from plan a to plan b goes up the
// catalog (Free → Pro → Business).
func (c *Catalog) Upgrades(a, b string) bool { return c.rank(b) > c.rank(a) }

func (c *Catalog) rank(key string) int {
	return slices.IndexFunc(c.Plans, func(p Plan) bool { return p.Key == key })
}

// Sold returns the plans sold through Stripe (a price at some interval).
func (c *Catalog) Sold() []Plan {
	var out []Plan
	for _, p := range c.Plans {
		if p.Paid() && p.Sold() {
			out = append(out, p)
		}
	}
	return out
}

// Check returns a sentence for every entry that is incomplete: a plan
// without a name, a paid plan without an amount at an interval it is sold
// at, or a price used by two plans.
func (c *Catalog) Check() []string {
	var problems []string
	seen := map[string]string{}
	if len(c.Plans) == 0 || c.Plans[0].Key != PlanFree {
		problems = append(problems, "the first plan must be Free")
	}
	for _, p := range c.Plans {
		if p.Key == "" || p.Name == "" || p.Summary == "" {
			problems = append(problems, fmt.Sprintf("plan %q needs a key, a name and a summary", p.Key))
		}
		if p.Pricing != PricingFlat && p.Pricing != PricingPerSeat {
			problems = append(problems, fmt.Sprintf("plan %q has no pricing model", p.Key))
		}
		for _, pr := range []Price{p.Monthly, p.Annual} {
			if pr.ID == "" {
				continue
			}
			if other, ok := seen[pr.ID]; ok {
				problems = append(problems, fmt.Sprintf("price %s is both %s and %s", pr.ID, other, p.Name))
			}
			seen[pr.ID] = p.Name
			if pr.Amount <= 0 || pr.Currency == "" {
				problems = append(problems, fmt.Sprintf("%s's %sly price %s needs an amount and a currency", p.Name, pr.Interval, pr.ID))
			}
		}
	}
	return problems
}
