package app

import (
	"fmt"
	"strconv"
	"strings"
)

// zeroDecimal lists the currencies Stripe counts in whole units, not
// hundredths (stripe.com/docs/currencies#zero-decimal).
var zeroDecimal = map[string]bool{
	"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true, "krw": true, "mga": true,
	"pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true,
}

// currencySymbols are the symbols written before an amount; other
// currencies get their code after it.
var currencySymbols = map[string]string{"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}

// ZeroDecimal reports whether Stripe counts currency in whole units.
func ZeroDecimal(currency string) bool { return zeroDecimal[strings.ToLower(currency)] }

// CurrencySymbol returns the sign written for currency, if it has one
// here; other currencies are written with their code.
func CurrencySymbol(currency string) (string, bool) {
	sym, ok := currencySymbols[strings.ToLower(currency)]
	return sym, ok
}

// FormatMoney formats an amount in a currency's smallest unit: "$29.00",
// "€5.50", "¥1200", "12.00 CHF".
func FormatMoney(amount int64, currency string) string {
	cur := strings.ToLower(currency)
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	n := strconv.FormatInt(amount, 10)
	if !zeroDecimal[cur] {
		n = fmt.Sprintf("%d.%02d", amount/100, amount%100)
	}
	if sym, ok := currencySymbols[cur]; ok {
		return sign + sym + n
	}
	if cur == "" {
		return sign + n
	}
	return sign + n + " " + strings.ToUpper(cur)
}
