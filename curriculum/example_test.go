package curriculum_test

import (
	"encoding/json"
	"fmt"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
)

// A training loop asks the plan what to do at every iteration.
func Example() {
	plan, err := curriculum.ReferenceSequential(curriculum.OrderSBNJRHD(), 100_000, curriculum.WithName("S-100k"))
	if err != nil {
		panic(err)
	}
	fmt.Println(plan)
	for _, it := range []int{1, 2, 100_000, 100_001, 600_001, 700_001, 700_002, 1_000_000} {
		s := plan.At(it)
		fmt.Printf("iter %7d  stage %d  tasks %-7s  restart %-5v  cycle %d  lr %.6g\n",
			s.Iter, s.Stage+1, degrade.TaskCodes(s.Tasks), s.Restart, s.Cycle, s.LR)
	}
	// Output:
	// sequential plan S-100k: 7 stages, 1000000 iterations, lr 0.0002 to 1e-07
	// iter       1  stage 1  tasks s        restart true   cycle 0  lr 0.0002
	// iter       2  stage 1  tasks s        restart false  cycle 0  lr 0.0002
	// iter  100000  stage 1  tasks s        restart false  cycle 0  lr 1e-07
	// iter  100001  stage 2  tasks sb       restart true   cycle 0  lr 0.0002
	// iter  600001  stage 7  tasks sbnjrhd  restart true   cycle 0  lr 0.0002
	// iter  700001  stage 7  tasks sbnjrhd  restart false  cycle 0  lr 1e-07
	// iter  700002  stage 7  tasks sbnjrhd  restart false  cycle 1  lr 0.0002
	// iter 1000000  stage 7  tasks sbnjrhd  restart false  cycle 3  lr 1e-07
}

// Sequential builds the plan of any task order; every stage adds one task.
func ExampleSequential() {
	order, _ := degrade.ParseTasks("njd")
	plan, err := curriculum.Sequential(order, 4, 2, curriculum.WithLR(1, 0))
	if err != nil {
		panic(err)
	}
	for it := 1; it <= plan.TotalIters(); it++ {
		s := plan.At(it)
		fmt.Printf("%2d %-3s stage %d/%d  restart=%-5v cycle_start=%-5v lr=%.4f\n",
			it, degrade.TaskCodes(s.Tasks), s.Stage, s.StageIter, s.Restart, s.CycleStart, s.LR)
	}
	// Output:
	//  1 n   stage 0/1  restart=true  cycle_start=true  lr=1.0000
	//  2 n   stage 0/2  restart=false cycle_start=false lr=0.8536
	//  3 n   stage 0/3  restart=false cycle_start=false lr=0.5000
	//  4 n   stage 0/4  restart=false cycle_start=false lr=0.1464
	//  5 nj  stage 1/1  restart=true  cycle_start=true  lr=1.0000
	//  6 nj  stage 1/2  restart=false cycle_start=false lr=0.8536
	//  7 nj  stage 1/3  restart=false cycle_start=false lr=0.5000
	//  8 nj  stage 1/4  restart=false cycle_start=false lr=0.1464
	//  9 njd stage 2/1  restart=true  cycle_start=true  lr=1.0000
	// 10 njd stage 2/2  restart=false cycle_start=false lr=0.8536
	// 11 njd stage 2/3  restart=false cycle_start=false lr=0.5000
	// 12 njd stage 2/4  restart=false cycle_start=false lr=0.1464
	// 13 njd stage 2/5  restart=false cycle_start=false lr=0.0000
	// 14 njd stage 2/6  restart=false cycle_start=true  lr=0.8536
	// 15 njd stage 2/7  restart=false cycle_start=false lr=0.5000
	// 16 njd stage 2/8  restart=false cycle_start=false lr=0.1464
}

// Mixed trains on all tasks in one stage of several cosine cycles.
func ExampleMixed() {
	plan, err := curriculum.Mixed(degrade.AllTasks(), []int{100_000, 100_000})
	if err != nil {
		panic(err)
	}
	for _, it := range []int{1, 50_001, 100_000, 100_001, 100_002, 200_000} {
		s := plan.At(it)
		fmt.Printf("iter %6d cycle %d cycle_start %-5v lr %v\n", it, s.Cycle, s.CycleStart, s.LR)
	}
	// Output:
	// iter      1 cycle 0 cycle_start true  lr 0.0002
	// iter  50001 cycle 0 cycle_start false lr 0.00010005
	// iter 100000 cycle 0 cycle_start false lr 1.0000004932335165e-07
	// iter 100001 cycle 0 cycle_start false lr 1e-07
	// iter 100002 cycle 1 cycle_start true  lr 0.00019999999995067664
	// iter 200000 cycle 1 cycle_start false lr 1.0000004932335165e-07
}

// CosineRestartLR is the reference scheduler on its own, by scheduler
// position (iteration - 1): BasicSR's docstring example with restart
// weights.
func ExampleCosineRestartLR() {
	periods := []int{10, 10, 10, 10}
	weights := []float64{1, 0.5, 0.5, 0.5}
	for _, e := range []int{0, 5, 10, 11, 15, 20} {
		lr, cycle, err := curriculum.CosineRestartLR(2e-4, 1e-7, periods, weights, e)
		if err != nil {
			panic(err)
		}
		fmt.Printf("position %2d cycle %d lr %v\n", e, cycle, lr)
	}
	// Output:
	// position  0 cycle 0 lr 0.0002
	// position  5 cycle 0 lr 0.00010005
	// position 10 cycle 0 lr 1e-07
	// position 11 cycle 1 lr 9.760404940185031e-05
	// position 15 cycle 1 lr 5.0075000000000004e-05
	// position 20 cycle 1 lr 1e-07
}

// A plan is stored as JSON in checkpoints and logs; decoding validates it.
func ExamplePlan_MarshalJSON() {
	order, _ := degrade.ParseTasks("rj")
	plan, _ := curriculum.Sequential(order, 100, 2, curriculum.WithName("demo"))
	b, _ := json.Marshal(plan)
	fmt.Println(string(b))
	var back curriculum.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		panic(err)
	}
	fmt.Println(back.TotalIters(), back.At(300).LR == plan.At(300).LR)
	err := json.Unmarshal([]byte(`{"kind":"mixed","base_lr":1e-7,"eta_min":2e-4,"stages":[{"tasks":["sr"],"periods":[10]}]}`), &back)
	fmt.Println(err)
	// Output:
	// {"name":"demo","kind":"sequential","base_lr":0.0002,"eta_min":1e-7,"stages":[{"tasks":["rain"],"periods":[100]},{"tasks":["rain","jpeg"],"periods":[100,100]}]}
	// 300 true
	// curriculum: invalid plan: eta_min 0.0002 is above the base learning rate 1e-07
}
