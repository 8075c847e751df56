// Package configs defines consort's configuration schemas — a single
// training run and a sweep — and loads them with the precedence
// flags > environment (CONSORT_*) > config file > defaults.
//
// Only this package and cmd touch viper; the libraries take the plain
// structs it produces.
//
//	v, err := configs.NewViper(file, cmd.Flags(), configs.TrainDefaults())
//	var t configs.Train
//	err = configs.Decode(v, &t) // validates; every failure wraps ErrConfig
//
// Callers branch on ErrConfig (exit status 2) with errors.Is. Validation
// reports every invalid field at once, each naming the field's path, its
// value and what is allowed.
package configs
