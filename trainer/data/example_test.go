package data_test

import (
	"fmt"
	"strings"

	"github.com/consort-ml/consort/trainer/data"
)

func ExampleReadCSV() {
	const in = `height,species,weight
1.0,cat,4
1.2,dog,20
0.9,cat,3.5
`
	d, err := data.ReadCSV(strings.NewReader(in), "pets.csv", data.CSVOptions{Label: "species"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.N, "samples of", d.Features, "classes", d.Classes, "labels", d.Y)

	_, err = data.ReadCSV(strings.NewReader(in+"1.1,dog,heavy\n"), "pets.csv", data.CSVOptions{Label: "species"})
	fmt.Println(err)
	// Output:
	// 3 samples of [height weight] classes [cat dog] labels [0 1 0]
	// data: pets.csv line 5: column "weight": "heavy" is not a number
}

func ExampleStratifiedKFold() {
	d, err := data.Builtin("iris")
	if err != nil {
		fmt.Println(err)
		return
	}
	folds, err := data.StratifiedKFold(d.Y, d.NumClasses(), 5, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	train, val := data.FoldIndices(folds, 5)
	for f := range val {
		perClass := d.Subset(val[f]).ClassCounts()
		fmt.Println("fold", f, "trains on", len(train[f]), "validates on", len(val[f]), perClass)
	}
	// Output:
	// fold 0 trains on 120 validates on 30 [10 10 10]
	// fold 1 trains on 120 validates on 30 [10 10 10]
	// fold 2 trains on 120 validates on 30 [10 10 10]
	// fold 3 trains on 120 validates on 30 [10 10 10]
	// fold 4 trains on 120 validates on 30 [10 10 10]
}

func ExampleFitStandardizer() {
	d, err := data.Builtin("iris")
	if err != nil {
		fmt.Println(err)
		return
	}
	train, test, err := data.TrainTestSplit(d.Y, d.NumClasses(), 0.2, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	std := data.FitStandardizer(d, train) // training rows only
	x := d.Subset(test)
	std.Apply(x.X, x.X)
	fmt.Println(len(train), len(test), len(std.Mean), x.ClassCounts())
	// Output:
	// 120 30 4 [10 10 10]
}
