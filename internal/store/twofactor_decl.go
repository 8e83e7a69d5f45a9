package store

// TwoFactorService implements app.TwoFactorService.
type TwoFactorService struct {
	db  *DB
	key []byte
}

// NewTwoFactorService returns the two-factor service of db; key seals
// authenticator secrets.
func NewTwoFactorService(db *DB, key []byte) *TwoFactorService {
	return &TwoFactorService{db: db, key: key}
}
