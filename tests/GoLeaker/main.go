// GoLeaker is the seed's service in miniature: a Go program whose global map of orders only ever grows. It is the
// non-.NET target of the Get-ProcessMemory tests, run in a memory cgroup with a small limit until the kernel's OOM
// killer ends it. Standard library only, so it builds without a network.
//
// It answers one command per line on stdin:
//
//	grow N   add N MiB of orders to the map (every byte written, so the pages are resident); replies "OK grow orders=... bytes=..."
//	count    replies "OK count orders=... bytes=..."
//	exit     replies "OK exit" and ends
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

type order struct {
	id      string
	payload []byte
}

// orders is the leak: nothing is ever removed from it.
var orders = map[string]*order{}

var leakedBytes int64

const orderBytes = 64 * 1024

func grow(mib int) {
	for i := 0; i < mib*(1024*1024/orderBytes); i++ {
		payload := make([]byte, orderBytes)
		// Fresh pages from the kernel read as zero without being resident: write every one of them.
		for j := range payload {
			payload[j] = byte(j | 1)
		}
		id := "order-" + strconv.Itoa(len(orders))
		orders[id] = &order{id: id, payload: payload}
		leakedBytes += orderBytes
	}
}

func main() {
	fmt.Printf("READY pid=%d\n", os.Getpid())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "grow":
			mib, err := strconv.Atoi(fields[len(fields)-1])
			if len(fields) != 2 || err != nil || mib < 0 {
				fmt.Println("ERR usage: grow N")
				continue
			}
			grow(mib)
			fmt.Printf("OK grow orders=%d bytes=%d\n", len(orders), leakedBytes)
		case "count":
			fmt.Printf("OK count orders=%d bytes=%d\n", len(orders), leakedBytes)
		case "exit":
			fmt.Println("OK exit")
			return
		default:
			fmt.Printf("ERR unknown command %q\n", fields[0])
		}
	}
}
