package server

import (
	"testing"
	"time"

	"atrium/internal/billing"
	"atrium/internal/i18n"
)

// TestMoney_Invoice checks the billing pages' amounts in English, in a
// currency's smallest unit: the printer's, grouped, with the code before
// the amount for a currency without a symbol.
func TestMoney_Invoice(t *testing.T) {
	t.Parallel()
	ctx := englishContext(t)
	for _, tc := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{2900, "usd", "$29.00"},
		{550, "EUR", "€5.50"},
		{1200, "jpy", "¥1,200"},
		{1200, "chf", "12.00 CHF"},
		{5, "gbp", "£0.05"},
		{-1000, "usd", "-$10.00"},
		{300, "krw", "300 KRW"},
		{123450, "usd", "$1,234.50"},
	} {
		if got := i18n.Money(ctx, tc.amount, tc.currency); got != tc.want {
			t.Errorf("Money(%d, %q)=%q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}

// TestDiscountSentence_Invoice checks the discount line of the billing
// page: what comes off, and for how long.
func TestDiscountSentence_Invoice(t *testing.T) {
	t.Parallel()
	s := &Server{}
	end := time.Date(2027, 3, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		d    billing.Discount
		want string
	}{
		{"PercentUntil", billing.Discount{PercentOff: 20, Duration: "repeating", Months: 3, End: end}, "20% off until 5 Mar 2027"},
		{"Named", billing.Discount{Name: "Launch offer", PercentOff: 12.5, Duration: "repeating", End: end}, "Launch offer: 12.5% off until 5 Mar 2027"},
		{"AmountForever", billing.Discount{AmountOff: 500, Currency: "usd", Duration: "forever"}, "$5.00 off every invoice, for as long as the subscription lasts"},
		{"Once", billing.Discount{PercentOff: 50, Duration: "once"}, "50% off the next invoice"},
		{"MonthsWithoutEnd", billing.Discount{PercentOff: 10, Duration: "repeating", Months: 6}, "10% off for 6 months"},
		{"NothingOff", billing.Discount{Name: "Odd", Duration: "once"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.discountSentence(englishContext(t), &tc.d, "UTC"); got != tc.want {
				t.Errorf("discountSentence=%q, want %q", got, tc.want)
			}
		})
	}
}
